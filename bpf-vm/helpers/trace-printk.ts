// bpf_trace_printk(fmt, fmt_size, a1, a2, a3): at most three arguments, the kernel's conversions
// (%d %i %u %x %X %c %s %p with l/ll modifiers), an invalid format is -EINVAL. Lines go to env.trace.
import { ERRNO } from '../errno.ts';
import type { ExecEnv } from '../interp/env.ts';
import { pairToBigInt } from '../interp/int64.ts';
import { ARG, RET, type HelperProto } from './proto.ts';
import { BPF_FUNC } from './ids.ts';

const MAX_ARGS = 3;
const MAX_STR = 256;

function readCString(env: ExecEnv, lo: number, hi: number): string {
  let out = '';
  for (let i = 0; i < MAX_STR; i++) {
    const r = env.resolveMem((lo + i) | 0, hi, 1, false, 'bpf_trace_printk %s');
    const c = r.u8[env.addr]!;
    if (c === 0) break;
    out += String.fromCharCode(c);
  }
  return out;
}

/** Formats, or returns undefined for a format the kernel refuses. */
function format(env: ExecEnv, fmt: string): string | undefined {
  const args = [0, 1, 2].map((i) => pairToBigInt(env.R[6 + 2 * i]!, env.R[7 + 2 * i]!));
  let used = 0;
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    if (ch !== '%') { out += ch; continue; }
    if (fmt[i + 1] === '%') { out += '%'; i++; continue; }
    if (used >= MAX_ARGS) return undefined;
    let j = i + 1;
    let longs = 0;
    while (fmt[j] === 'l' && longs < 2) { longs++; j++; }
    const conv = fmt[j];
    const raw = args[used++]!;
    const width = longs === 0 ? 32 : 64;
    switch (conv) {
      case 'd': case 'i': out += BigInt.asIntN(width, raw).toString(); break;
      case 'u': out += BigInt.asUintN(width, raw).toString(); break;
      case 'x': out += BigInt.asUintN(width, raw).toString(16); break;
      case 'X': out += BigInt.asUintN(width, raw).toString(16).toUpperCase(); break;
      case 'c': if (longs) return undefined; out += String.fromCharCode(Number(raw & 0xffn)); break;
      case 'p': if (longs) return undefined; out += `0x${BigInt.asUintN(64, raw).toString(16)}`; break;
      case 's': {
        if (longs) return undefined;
        const a = used - 1;
        out += readCString(env, env.R[6 + 2 * a]!, env.R[7 + 2 * a]!);
        break;
      }
      default: return undefined;
    }
    i = j;
  }
  return out;
}

export const tracePrintk: HelperProto = {
  id: BPF_FUNC.trace_printk,
  name: 'trace_printk',
  args: [ARG.ARG_PTR_TO_MEM, ARG.ARG_CONST_SIZE, ARG.ARG_ANYTHING, ARG.ARG_ANYTHING, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const size = env.R[4]! >>> 0;
    if (size === 0 || env.R[5] !== 0) { env.setR0Int(-ERRNO.EINVAL); return; }
    const r = env.resolveMem(env.R[2]!, env.R[3]!, size, false, 'bpf_trace_printk fmt');
    const bytes = r.u8.subarray(env.addr, env.addr + size);
    if (bytes[size - 1] !== 0) { env.setR0Int(-ERRNO.EINVAL); return; }
    const nul = bytes.indexOf(0);
    const line = format(env, String.fromCharCode(...bytes.subarray(0, nul)));
    if (line === undefined) { env.setR0Int(-ERRNO.EINVAL); return; }
    env.trace(line);
    env.setR0Int(line.length);
  },
};
