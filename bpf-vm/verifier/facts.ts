// What the verifier proved per instruction, merged over every path that reached it: the kind of
// memory a load or store's base register points to, registers holding the same constant on every
// path, and registers whose upper half is zero. Only registers live at the instruction are reported:
// a path pruned against another may differ from it in dead registers, never in live ones.
import type { InsnFacts, MemKind } from './api.ts';
import { reject } from './env-types.ts';
import type { Reg } from './reg-state.ts';
import { isConst, U32_MAX } from './scalar.ts';

interface PcFacts {
  mem?: { kind: MemKind; map?: number; btfId?: number } | 'mixed';
  consts?: Map<number, bigint>;
  upperZero: number;
  seen: boolean;
}

export function memKindOf(r: Reg): MemKind | undefined {
  switch (r.type) {
    case 'ctx': return 'ctx';
    case 'pkt': return 'packet';
    case 'pkt_meta': return 'packet_meta';
    case 'stack': return 'stack';
    case 'map_value': return 'map_value';
    case 'sock': case 'sock_common': case 'tcp_sock': return 'socket';
    case 'ptr_': case 'rdonly_untrusted_mem': return 'btf';
    default: return undefined;
  }
}

export class Facts {
  private readonly at: PcFacts[];

  constructor(n: number) {
    this.at = Array.from({ length: n }, () => ({ upperZero: 0, seen: false }));
  }

  /** Registers before the instruction at pc runs, on one path (live: registers the future reads). */
  observe(pc: number, regs: readonly Reg[], live: number): void {
    const f = this.at[pc]!;
    let uz = 0;
    const consts = new Map<number, bigint>();
    for (let i = 0; i < 10; i++) {
      if ((live & (1 << i)) === 0) continue;
      const r = regs[i]!;
      if (r.type !== 'scalar') continue;
      if (r.s.umax <= U32_MAX) uz |= 1 << i;
      if (isConst(r.s)) consts.set(i, r.s.t.value);
    }
    if (!f.seen) {
      f.seen = true;
      f.upperZero = uz;
      f.consts = consts;
      return;
    }
    f.upperZero &= uz;
    for (const [i, v] of f.consts!) if (consts.get(i) !== v) f.consts!.delete(i);
  }

  /** The base register of the memory instruction at pc, on one path. */
  mem(pc: number, base: Reg): void {
    const f = this.at[pc]!;
    const kind = memKindOf(base);
    // A pointer the JIT has no direct access for (ringbuf records): checked at run time on every path.
    if (kind === undefined) { f.mem = 'mixed'; return; }
    const map = kind === 'map_value' ? base.map : undefined;
    // A BTF load names its struct (none for untrusted memory: a pointer to a non-struct member).
    const btfId = base.type === 'ptr_' ? base.btfId : undefined;
    if (f.mem === undefined) { f.mem = map !== undefined ? { kind, map } : btfId !== undefined ? { kind, btfId } : { kind }; return; }
    if (f.mem === 'mixed') return;
    // A load that may see two structs (or untrusted memory) is still a PROBE_MEM load: no struct named.
    if (f.mem.kind === 'btf' && kind === 'btf' && f.mem.btfId !== btfId) { f.mem = { kind }; return; }
    if (f.mem.kind !== kind) {
      // Context loads are rewritten per field, so one instruction cannot serve two kinds of pointer.
      if (f.mem.kind === 'ctx' || kind === 'ctx') reject('same insn cannot be used with different pointers');
      f.mem = 'mixed';
      return;
    }
    if (f.mem.map !== map) f.mem = { kind };
  }

  result(second: Uint8Array): (InsnFacts | undefined)[] {
    return this.at.map((f, pc) => {
      if (!f.seen || second[pc]) return undefined;
      const out: { mem?: InsnFacts['mem']; consts?: ReadonlyMap<number, bigint>; upperZero?: number } = {};
      if (f.mem !== undefined && f.mem !== 'mixed') out.mem = f.mem;
      if (f.consts !== undefined && f.consts.size > 0) out.consts = f.consts;
      out.upperZero = f.upperZero;
      return out;
    });
  }
}
