// Memory a helper reads or writes through a pointer argument (check_helper_mem_access): the whole
// [ptr, ptr + size) must be inside the stack frame (and written, for reads), the proven packet
// range, or the map value. A helper's writes to the stack leave unknown bytes behind.
import type { Env } from './env.ts';
import { reject } from './env-types.ts';
import { mapValueBounds, memBounds, packetBounds } from './mem-access.ts';
import { typeName, type Reg } from './reg-state.ts';
import { isConst } from './scalar.ts';
import { byteIndex } from './stack.ts';
import type { VState } from './state.ts';
import { tnumToString } from './tnum.ts';

export function helperMemAccess(env: Env, st: VState, regno: number, r: Reg, size: number, write: boolean, zeroOk: boolean): void {
  if (size === 0 && zeroOk) return;
  switch (r.type) {
    case 'stack':
      // check_stack_range_initialized: a map key or value of size 0 (a RINGBUF map's) reads nothing.
      if (size === 0) reject('invalid zero-sized read');
      return stackRange(env, st, regno, r, size, write);
    case 'pkt': case 'pkt_meta': packetBounds(r, regno, r.off, size); return;
    case 'map_value': mapValueBounds(env, r, regno, 0, size, write); return;
    case 'ringbuf_mem': memBounds(r, regno, 0, size); return;
    case 'map_key':
      if (write) reject(`write to change key R${regno} not allowed`);
      memBounds(r, regno, 0, size);
      return;
    default: reject(`R${regno} type=${typeName(r.type)} expected=fp, pkt, pkt_meta, map_key, map_value`);
  }
}

function stackRange(env: Env, st: VState, regno: number, r: Reg, size: number, write: boolean): void {
  const frame = st.frames[r.frame]!;
  const fixed = isConst(r.s);
  const lo = BigInt(r.off) + (fixed ? BigInt.asIntN(64, r.s.t.value) : r.s.smin);
  const hi = BigInt(r.off) + (fixed ? BigInt.asIntN(64, r.s.t.value) : r.s.smax) + BigInt(size);
  if (lo < -512n || hi > 0n || size < 0) {
    const rw = write ? 'write to' : 'read from';
    if (fixed) reject(`invalid ${rw} stack R${regno} off=${lo} size=${size}`);
    reject(`invalid variable-offset ${rw} stack R${regno} var_off=${tnumToString(r.s.t)} off=${r.off} size=${size}`);
  }
  const b = byteIndex(Number(lo)), e = byteIndex(Number(hi));
  env.noteStackDepth(frame.subprog, Number(lo));
  if (write) {
    if (r.frame === st.curframe) for (let o = Number(lo); o < Number(hi); o += 8) env.scratchSlot(o);
    frame.stack.markMisc(b, e);
    return;
  }
  const bad = frame.stack.firstInvalid(b, e);
  if (bad >= 0 && !env.opts.allowUninitStack) {
    if (fixed) reject(`invalid indirect read from stack R${regno} off ${lo}+${bad - b} size ${size}`);
    reject(`invalid indirect read from stack R${regno} var_off ${tnumToString(r.s.t)}+${r.off} size ${size}`);
  }
}
