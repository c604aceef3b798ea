// bpf_trace_printk(fmt, fmt_size, a1, a2, a3): the kernel's bpf_bprintf_prepare rules. The format
// must hold a NUL within fmt_size; at most three conversions; optional [0 +-] flags and a width;
// %d %i %u %x %X with l/ll, %c, %s, %p, %pK, %px, %pI4, %pi4, %pI6, %pi6, %pks, %pus. Anything else
// is -EINVAL. The line goes to env.trace; the return value is its length.
import { ERRNO } from '../errno.ts';
import type { ExecEnv } from '../interp/env.ts';
import { pairToBigInt } from '../interp/int64.ts';
import { isRegionTag } from '../interp/regions.ts';
import { ARG, RET, type HelperProto } from './proto.ts';
import { BPF_FUNC } from './ids.ts';

const MAX_ARGS = 3;
const MAX_STR = 256;

/** Bytes at a pointer, or undefined when it points nowhere readable (the kernel's probe read fails). */
function readBytes(env: ExecEnv, lo: number, hi: number, n: number): Uint8Array | undefined {
  const r = isRegionTag(hi) ? env.regions[hi & 0xffff] : undefined;
  const a = lo >>> 0;
  if (r === undefined || a < r.lo || a + n > r.hi) return undefined;
  return r.u8.subarray(a, a + n);
}

function readCString(env: ExecEnv, lo: number, hi: number): string {
  let out = '';
  for (let i = 0; i < MAX_STR; i++) {
    const b = readBytes(env, (lo + i) | 0, hi, 1);
    if (b === undefined || b[0] === 0) break;
    out += String.fromCharCode(b[0]!);
  }
  return out;
}

function ip(env: ExecEnv, lo: number, hi: number, kind: string): string | undefined {
  const v6 = kind[1] === '6';
  const b = readBytes(env, lo, hi, v6 ? 16 : 4);
  if (b === undefined) return '';
  if (!v6) return [...b].map((x) => (kind[0] === 'i' ? String(x).padStart(3, '0') : String(x))).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16).padStart(4, '0'));
  return kind[0] === 'i' ? groups.join('') : groups.join(':');
}

function pad(text: string, flags: string, width: number, numeric: boolean): string {
  if (text.length >= width) return text;
  if (flags.includes('-')) return text.padEnd(width);
  if (numeric && flags.includes('0')) {
    const sign = /^[-+ ]/.test(text) ? text[0]! : '';
    return sign + text.slice(sign.length).padStart(width - sign.length, '0');
  }
  return text.padStart(width);
}

/** Formats, or returns undefined for a format the kernel refuses. */
function format(env: ExecEnv, fmt: string): string | undefined {
  let used = 0;
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] !== '%') { out += fmt[i]; continue; }
    if (fmt[i + 1] === '%') { out += '%'; i++; continue; }
    if (used >= MAX_ARGS) return undefined;
    let j = i + 1;
    let flags = '';
    while ('0+- '.includes(fmt[j] ?? 'x')) flags += fmt[j++];
    let width = 0;
    while (/[0-9]/.test(fmt[j] ?? '')) width = width * 10 + Number(fmt[j++]);
    const lo = env.R[6 + 2 * used]!, hi = env.R[7 + 2 * used]!;
    const raw = pairToBigInt(lo, hi);
    used++;
    let text: string;
    let numeric = true;
    if (fmt[j] === 'p') {
      const ext = fmt.slice(j + 1, j + 3);
      if (ext === 'I4' || ext === 'i4' || ext === 'I6' || ext === 'i6') { text = ip(env, lo, hi, ext)!; j += 2; numeric = false; }
      else if (ext === 'ks' || ext === 'us') { text = readCString(env, lo, hi); j += 2; numeric = false; }
      else {
        if (fmt[j + 1] === 'K' || fmt[j + 1] === 'x') j++;
        text = BigInt.asUintN(64, raw).toString(16).padStart(16, '0');
      }
    } else if (fmt[j] === 'c') {
      text = String.fromCharCode(Number(raw & 0xffn));
      numeric = false;
    } else if (fmt[j] === 's') {
      text = readCString(env, lo, hi);
      numeric = false;
    } else {
      let longs = 0;
      while (fmt[j] === 'l' && longs < 2) { longs++; j++; }
      const bits = longs === 0 ? 32 : 64;
      switch (fmt[j]) {
        case 'd': case 'i': {
          const v = BigInt.asIntN(bits, raw);
          text = (v >= 0n && flags.includes('+') ? '+' : v >= 0n && flags.includes(' ') ? ' ' : '') + v.toString();
          break;
        }
        case 'u': text = BigInt.asUintN(bits, raw).toString(); break;
        case 'x': text = BigInt.asUintN(bits, raw).toString(16); break;
        case 'X': text = BigInt.asUintN(bits, raw).toString(16).toUpperCase(); break;
        default: return undefined;
      }
    }
    out += pad(text, flags, width, numeric);
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
    const nul = bytes.indexOf(0);
    if (nul < 0) { env.setR0Int(-ERRNO.EINVAL); return; }
    const line = format(env, String.fromCharCode(...bytes.subarray(0, nul)));
    if (line === undefined) { env.setR0Int(-ERRNO.EINVAL); return; }
    env.trace(line);
    env.setR0Int(line.length);
  },
};
