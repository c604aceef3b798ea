// bpf_strtol / bpf_strtoul: parse an integer from a buffer that need not be NUL-terminated.
// Base in flags (0 = auto, 8, 10, 16); leading blanks skipped; returns the bytes consumed,
// -EINVAL when nothing parses, -ERANGE on overflow; the value goes to an 8-byte result, which
// reads 0 after any error.
import { ERRNO } from '../errno.ts';
import type { ExecEnv } from '../interp/env.ts';
import { ARG, RET, type HelperProto } from './proto.ts';
import { BPF_FUNC } from './ids.ts';

const BASE_MASK = 0x1f;
/** At most this many bytes after blanks and sign are parsed (the kernel copies into char[64]). */
const MAX_DIGITS = 63;
const U64_MAX = (1n << 64n) - 1n;

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return 99;
}

interface Parsed { consumed: number; value: bigint; negative: boolean }

function parse(env: ExecEnv): Parsed | number {
  const R = env.R;
  const len = R[4]! >>> 0;
  if (len === 0 || R[5] !== 0 || R[7] !== 0) return -ERRNO.EINVAL;
  let base = R[6]! & BASE_MASK;
  if ((R[6]! & ~BASE_MASK) !== 0 || (base !== 0 && base !== 8 && base !== 10 && base !== 16)) return -ERRNO.EINVAL;
  const r = env.resolveMem(R[2]!, R[3]!, len, false, 'bpf_strtol buf');
  const buf = r.u8.subarray(env.addr, env.addr + len);
  let i = 0;
  while (i < len && isSpace(buf[i]!)) i++;
  const negative = i < len && buf[i] === 0x2d;
  if (negative) i++;
  if (i === len) return -ERRNO.EINVAL;
  const s = buf.subarray(i, i + Math.min(len - i, MAX_DIGITS));
  let p = 0;
  const at = (k: number): number => (k < s.length ? s[k]! : 0);
  if (base === 0) {
    base = at(0) === 0x30 ? ((at(1) | 0x20) === 0x78 && digitValue(at(2)) < 16 ? 16 : 8) : 10;
  }
  if (base === 16 && at(0) === 0x30 && (at(1) | 0x20) === 0x78) p = 2;
  const start = p;
  let value = 0n;
  let overflow = false;
  for (; p < s.length; p++) {
    const d = digitValue(s[p]!);
    if (d >= base) break;
    value = value * BigInt(base) + BigInt(d);
    if (value > U64_MAX) overflow = true;
  }
  if (overflow) return -ERRNO.ERANGE;
  if (p === start) return -ERRNO.EINVAL;
  return { consumed: i + p, value, negative };
}

function writeResult(env: ExecEnv, v: bigint): void {
  const r = env.resolveMem(env.R[8]!, env.R[9]!, 8, true, 'bpf_strtol res');
  r.dv.setBigUint64(env.addr, BigInt.asUintN(64, v), true);
}

/** The kernel clears the result before parsing, so a failed parse leaves 0 behind, not old data. */
/**
 * The helper for one signedness. The kernel clears the result before parsing, so a failed parse
 * leaves 0 behind; the value is the signed or unsigned reading of what parsed (-ERANGE if it does
 * not fit, -EINVAL for a sign on an unsigned number).
 */
function strto(id: number, name: string, toValue: (p: Parsed) => bigint | number): HelperProto {
  return {
    id,
    name,
    args: [ARG.ARG_PTR_TO_MEM, ARG.ARG_CONST_SIZE, ARG.ARG_ANYTHING, ARG.ARG_PTR_TO_FIXED_SIZE_MEM],
    fixedSize: 8,
    ret: RET.RET_INTEGER,
    impl(env) {
      writeResult(env, 0n);
      const p = parse(env);
      const v = typeof p === 'number' ? p : toValue(p);
      if (typeof v === 'number') { env.setR0Int(v); return; }
      writeResult(env, v);
      env.setR0Int((p as Parsed).consumed);
    },
  };
}

export const strtol = strto(BPF_FUNC.strtol, 'strtol', (p) => {
  const v = p.negative ? -p.value : p.value;
  return BigInt.asIntN(64, v) === v ? v : -ERRNO.ERANGE;
});

export const strtoul = strto(BPF_FUNC.strtoul, 'strtoul', (p) => (p.negative ? -ERRNO.EINVAL : p.value));
