// State pruning (the kernel's is_state_visited idea). At prune points the current state is compared
// with the states already recorded there. A recorded state whose exploration has finished and that
// contains the current one (scalars: old ranges and known bits include the new; pointers: same
// type and offsets, old packet range no larger, the variable offset of a stack pointer equal; stack:
// old slot kinds at least as general; every id, of registers, spills and references, paired
// one-to-one through one map) proves the current path safe: it is cut. A recorded state still being
// explored (an ancestor on this path) that equals the current one exactly is a loop that can never end.
import type { Env } from './env.ts';
import { Reject } from './env-types.ts';
import { fmtFrame } from './log.ts';
import { isPointer, scalarReg, UNKNOWN_SCALAR, ZERO_SCALAR, type Reg } from './reg-state.ts';
import { scalarEquals, scalarWithin } from './scalar.ts';
import { SLOT_INVALID, SLOT_MISC, SLOT_SPILL, SLOT_ZERO, type Spill, type Stack } from './stack.ts';
import type { VState } from './state.ts';

const ALL_SLOTS = (1n << 64n) - 1n;

export interface Checkpoint {
  readonly state: VState;
  readonly pc: number;
  /** Paths still being explored below this state; 0 once its exploration is complete. */
  branches: number;
  readonly parent: Checkpoint | undefined;
  hits: number;
  misses: number;
  readonly shape: string;
  readonly exactKey: string;
}

/**
 * The kernel's idmap for one states_equal: old id -> cur id, one-to-one (check_ids). Every relation
 * the old state relied on (copies of one nullable pointer, packet pointers sharing a variable offset,
 * linked scalars, holders of one reference) must hold between the same registers of the current
 * state, and two unrelated old ids may not both stand for one current id.
 */
class IdMap {
  private readonly fwd = new Map<number, number>();
  private readonly rev = new Map<number, number>();
  /** Ids given to unlinked current scalars: negative, so distinct from every real id and each other. */
  private tmp = 0;

  /** check_ids: both unset, or both set and paired the same way as every earlier pair, both directions. */
  check(old: number, cur: number): boolean {
    if (old === 0 || cur === 0) return old === cur;
    const f = this.fwd.get(old);
    if (f !== undefined) return f === cur;
    if (this.rev.has(cur)) return false;
    this.fwd.set(old, cur);
    this.rev.set(cur, old);
    return true;
  }

  /**
   * check_scalar_ids: an unlinked old scalar relied on no relation, whatever cur's links; an unlinked
   * current scalar gets an id of its own, so it cannot stand in for one of several linked old ones.
   */
  scalar(old: number, cur: number): boolean {
    if (old === 0) return true;
    return this.check(old, cur !== 0 ? cur : --this.tmp);
  }
}

/** regs_exact: the same register in every field, ids paired through the map. */
function regsExact(old: Reg, cur: Reg, ids: IdMap): boolean {
  return old.type === cur.type && old.off === cur.off && old.range === cur.range && old.map === cur.map &&
    old.frame === cur.frame && old.btfId === cur.btfId && old.flags === cur.flags && scalarEquals(old.s, cur.s) && ids.check(old.id, cur.id) && ids.check(old.refId, cur.refId);
}

/**
 * The kernel's regsafe: whether `cur` is safe wherever `old` was (exact: whether it is the same). Ids go
 * through the map even when both states hold the very same register object: registers are shared
 * between a state and its copies, and an id that is identical on its own may still pair differently
 * with the other registers (id_in_regsafe_bad_access: r2 = r3 on one path only, so the old r2 and r3
 * share the id of the current r3 while the current r2 has another).
 */
function regSafe(old: Reg, cur: Reg, ids: IdMap, exact: boolean): boolean {
  // With no id to pair, the same object is trivially safe.
  if (old === cur && old.id === 0 && old.refId === 0) return true;
  if (exact) return regsExact(old, cur, ids);
  if (old.type === 'not_init') return true;
  if (old.type !== cur.type) return false;
  switch (old.type) {
    case 'scalar':
      // A linked old scalar needs cur linked the same way at the same distance (BPF_ADD_CONST's off).
      if (old.id !== 0 && (old.off !== cur.off || !ids.scalar(old.id, cur.id))) return false;
      return scalarWithin(old.s, cur.s);
    case 'pkt': case 'pkt_meta':
      // cur must have proven at least the range old had, from the same fixed offset.
      return old.range <= cur.range && old.off === cur.off && ids.check(old.id, cur.id) && scalarWithin(old.s, cur.s);
    case 'map_value': case 'map_value_or_null':
      return old.map === cur.map && old.off === cur.off && scalarWithin(old.s, cur.s) &&
        ids.check(old.id, cur.id) && ids.check(old.refId, cur.refId);
    default:
      // Stack pointers (fp-8 of one frame is not fp-8 of another, and a variable offset decides which
      // slots a store turns into data), context, map and packet-end pointers, sockets.
      return regsExact(old, cur, ids);
  }
}

const isScalarData = (t: number, sp: Spill | undefined): boolean =>
  t === SLOT_MISC || t === SLOT_ZERO || (t === SLOT_SPILL && sp !== undefined && sp.reg.type === 'scalar');

/** `need`: slots whose value may matter; other slots only need to hold some scalar data in both. */
function stackSafe(old: Stack, cur: Stack, ids: IdMap, exact: boolean, allowUninit: boolean, need: bigint): boolean {
  for (let slot = 0; slot < 64; slot++) {
    const b = slot * 8;
    const os = old.spills[slot], cs = cur.spills[slot];
    const precise = exact || ((need >> BigInt(slot)) & 1n) !== 0n;
    if (!precise && (os === undefined || os.reg.type === 'scalar')) {
      for (let i = b; i < b + 8; i++) {
        const o = old.types[i]!, c = cur.types[i]!;
        if (o === SLOT_INVALID) {
          if (allowUninit && c === SLOT_SPILL && cs !== undefined && isPointer(cs.reg)) return false;
          continue;
        }
        if (!isScalarData(c, cs)) return false;
      }
      continue;
    }
    if (os !== undefined) {
      if (cs === undefined || cs.start !== os.start || cs.size !== os.size || !regSafe(os.reg, cs.reg, ids, exact)) return false;
    } else if (exact && cs !== undefined) return false;
    for (let i = b; i < b + 8; i++) {
      const o = old.types[i]!, c = cur.types[i]!;
      if (o === c) continue;
      if (exact) return false;
      switch (o) {
        case SLOT_INVALID:
          if (allowUninit && c === SLOT_SPILL && cs !== undefined && isPointer(cs.reg)) return false;
          break;
        case SLOT_MISC:
          if (c === SLOT_ZERO) break;
          if (c === SLOT_SPILL && cs !== undefined && cs.reg.type === 'scalar') break;
          return false;
        default: return false;
      }
    }
  }
  return true;
}

/**
 * Whether `cur` at pc is contained in `old` (or, exact, equal to it), comparing live registers only.
 * `range`: every scalar compared by its range, whatever its precision (the kernel's RANGE_WITHIN, for
 * a callback call's state against one still being explored: the callback's next visit must add nothing).
 */
export function statesEqual(env: Env, old: VState, cur: VState, pc: number, exact: boolean, range = false): boolean {
  if (old.frames.length !== cur.frames.length || old.refs.length !== cur.refs.length || old.rcuLocks !== cur.rcuLocks) return false;
  const ids = new IdMap();
  // refsafe: the references held pair up in order, with the same map as the registers holding them.
  for (let i = 0; i < old.refs.length; i++) {
    if (!ids.check(old.refs[i]!.id, cur.refs[i]!.id)) return false;
  }
  const n = cur.frames.length;
  for (let f = 0; f < n; f++) {
    const of = old.frames[f]!, cf = cur.frames[f]!;
    if (of.callsite !== cf.callsite || of.inCallback !== cf.inCallback) return false;
    // A state that walked the callback more times than cur may have stopped scheduling it sooner; an
    // equal state one callback visit earlier is the next visit, not an infinite loop (the kernel
    // compares callback_unroll_depth before calling a loop infinite).
    if (exact ? of.callbackDepth !== cf.callbackDepth : of.callbackDepth > cf.callbackDepth) return false;
    // The current frame needs what is live here; a caller what is live at its return site (r6-r9).
    const top = f === n - 1;
    const ret = top ? pc : cur.frames[f + 1]!.callsite + 1;
    const live = top ? env.live[pc]! : env.live[ret]! & 0x3c0;
    // Scalars whose value cannot matter from here on may differ (the kernel's imprecise scalars).
    // A callee may read its callers' stacks through pointers: their slots are always compared.
    const needR = range ? 0xffff : env.precision.regs[ret]!;
    const needS = top && !range ? env.precision.slots[pc]! : ALL_SLOTS;
    for (let r = 0; r < 10; r++) {
      if ((live & (1 << r)) === 0) continue;
      const o = of.regs[r]!, c = cf.regs[r]!;
      if (!exact && o.type === 'scalar' && (needR & (1 << r)) === 0) {
        if (c.type !== 'scalar') return false;
        continue;
      }
      if (!regSafe(o, c, ids, exact)) return false;
    }
    if (!stackSafe(of.stack, cf.stack, ids, exact, env.opts.allowUninitStack, needS)) return false;
  }
  return true;
}

/**
 * What any state that contains (or equals) this one at the same instruction must share: frames,
 * references, and the type and fixed offsets of the live registers of the current frame.
 */
function shapeKey(env: Env, st: VState, pc: number, exact: boolean): string {
  let k = `${pc}|${st.frames.map((f) => f.callsite).join(',')}|${st.refs.length}|${st.rcuLocks}`;
  const live = env.live[pc]!;
  const regs = st.cur.regs;
  for (let r = 0; r < 10; r++) {
    if ((live & (1 << r)) === 0) continue;
    const x = regs[r]!;
    k += x.type === 'scalar' ? '|s' : `|${x.type}:${x.off}:${x.map}:${x.frame}:${x.btfId}:${x.flags}`;
    if (exact) k += `:${x.s.smin}:${x.s.smax}:${x.s.umin}:${x.s.umax}:${x.s.t.value}:${x.s.t.mask}:${x.range}`;
  }
  return k;
}

export class Explored {
  /** Fully explored states by shape: the candidates for containing a new state. */
  private readonly byShape = new Map<string, Checkpoint[]>();
  /** States still being explored, by exact key: the candidates for an infinite loop. */
  private readonly byExact = new Map<string, Checkpoint[]>();
  /** Recorded states per instruction whose exploration is not finished. */
  private readonly inProgress = new Map<number, number>();
  /** Those of them at callback calls: the candidates for a callback visit that converged. */
  private readonly activeAt = new Map<number, Checkpoint[]>();
  private readonly perInsn = new Map<number, number>();
  totalStates = 0;
  maxStatesPerInsn = 0;
  private prevJmps = 0;
  private prevInsns = 0;

  /**
   * The kernel's is_state_visited: true when `cur` can be cut. May throw the infinite-loop rejection.
   * Records `cur` as a new checkpoint when enough work happened since the last one.
   */
  visit(env: Env, cur: VState, pc: number, jmps: number, insns: number): boolean {
    // A callback call is a loop head whose iterations the helper bounds: a state that one still being
    // explored at the same call contains, every scalar by range, is cut (the callback's visits
    // converged), and every state there is recorded. Not only ancestors: each exit of a callback
    // comes back to the call, and the first to arrive covers the others (is_state_visited compares
    // every state of the instruction with branches left, for calls_callback instructions).
    const cbSite = env.cfg.cbCall[pc] === 1;
    if (cbSite) {
      for (const cp of this.activeAt.get(pc) ?? []) {
        if (cp.branches > 0 && statesEqual(env, cp.state, cur, pc, false, true)) { cp.hits++; return true; }
      }
    }
    let addNew = cbSite || (jmps - this.prevJmps >= 2 && insns - this.prevInsns >= 8);
    const looping = !cbSite && (this.inProgress.get(pc) ?? 0) > 0;
    const exactKey = looping || addNew ? shapeKey(env, cur, pc, true) : '';
    const shape = shapeKey(env, cur, pc, false);
    for (const cp of looping ? this.byExact.get(exactKey) ?? [] : []) {
      if (cp.branches > 0 && statesEqual(env, cp.state, cur, pc, true)) {
        env.log.linfo(pc);
        throw new Reject('EINVAL', `infinite loop detected at insn ${pc}`, [
          `cur state: ${fmtFrame(cur.cur, cur.refs, env)}`, `old state: ${fmtFrame(cp.state.cur, cp.state.refs, env)}`,
        ]);
      }
    }
    // Inside a loop: record states less often, or every iteration would leave one behind.
    if (!cbSite && looping && jmps - this.prevJmps < 20 && insns - this.prevInsns < 100) addNew = false;
    const list = this.byShape.get(shape);
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const cp = list[i]!;
        if (statesEqual(env, cp.state, cur, pc, false)) { cp.hits++; return true; }
        // A state that keeps failing to contain new ones is not worth comparing against.
        if (++cp.misses > cp.hits * 8 + 32) { list.splice(i--, 1); }
      }
    }
    if (!addNew) return false;
    clearSingularIds(cur);
    const cp: Checkpoint = { state: cur.clone(), pc, branches: 1, parent: cur.checkpoint, hits: 0, misses: 0, shape, exactKey };
    cur.checkpoint = cp;
    push(this.byExact, exactKey, cp);
    if (cbSite) push(this.activeAt, pc, cp);
    this.inProgress.set(pc, (this.inProgress.get(pc) ?? 0) + 1);
    const n = (this.perInsn.get(pc) ?? 0) + 1;
    this.perInsn.set(pc, n);
    this.totalStates++;
    this.maxStatesPerInsn = Math.max(this.maxStatesPerInsn, n);
    this.prevJmps = jmps;
    this.prevInsns = insns;
    return false;
  }

  /** A path ended (exit or cut): checkpoints whose last path this was become complete. */
  pathDone(cp: Checkpoint | undefined): void {
    while (cp !== undefined) {
      cp.branches--;
      if (cp.branches > 0) return;
      this.inProgress.set(cp.pc, (this.inProgress.get(cp.pc) ?? 1) - 1);
      const ex = this.byExact.get(cp.exactKey);
      if (ex !== undefined) {
        const i = ex.indexOf(cp);
        if (i >= 0) ex.splice(i, 1);
        if (ex.length === 0) this.byExact.delete(cp.exactKey);
      }
      const act = this.activeAt.get(cp.pc);
      if (act !== undefined) {
        const i = act.indexOf(cp);
        if (i >= 0) act.splice(i, 1);
      }
      push(this.byShape, cp.shape, cp);
      cp = cp.parent;
    }
  }
}

/**
 * The kernel's clear_singular_ids, before a state is recorded: a scalar id no other register or spill
 * shares links nothing, and as id 0 the recorded state relies on no link there (check_scalar_ids), so
 * it can prune states where that register happens to be linked.
 */
function clearSingularIds(st: VState): void {
  const count = new Map<number, number>();
  st.mapAllRegs((r) => {
    if (r.type === 'scalar' && r.id !== 0) count.set(r.id, (count.get(r.id) ?? 0) + 1);
    return r;
  });
  if (count.size === 0) return;
  st.mapAllRegs((r) => (r.type === 'scalar' && r.id !== 0 && count.get(r.id) === 1 ? scalarReg(r.s) : r));
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [v]);
  else l.push(v);
}

/**
 * widen_imprecise_scalars: a callback came back to its call (pc) in `cur`; the state recorded at the
 * same call earlier on this path is the previous visit. Scalars spilled in any frame that changed
 * between the two become unknown, so that a counter the callback bumps converges instead of making
 * every visit a new state.
 */
export function widenAfterCallback(env: Env, cur: VState, pc: number): void {
  let prev: Checkpoint | undefined = cur.checkpoint;
  while (prev !== undefined && !(prev.pc === pc && prev.branches > 0 && sameCallsites(prev.state, cur))) prev = prev.parent;
  if (prev === undefined) return;
  const widen = (o: Reg, c: Reg): Reg | undefined =>
    o.type === 'scalar' && c.type === 'scalar' && !(o.id === c.id && scalarEquals(o.s, c.s)) ? UNKNOWN_SCALAR : undefined;
  // Registers need nothing: a callback cannot change its callers' registers, so the caller's are
  // those of the previous visit.
  // Every frame's stack: a nested callback bumps counters in its callers' frames.
  for (let f = 0; f < cur.frames.length; f++) widenSpills(prev.state.frames[f]!.stack, cur.frames[f]!.stack, widen);
}

function widenSpills(os_: Stack, cs_: Stack, widen: (o: Reg, c: Reg) => Reg | undefined): void {
  for (let slot = 0; slot < 64; slot++) {
    const os = os_.spills[slot], cs = cs_.spills[slot];
    // The static precision of a slot is coarse (a value loaded from the stack may be a pointer, so
    // arithmetic on it counts as pointer arithmetic): every changed scalar spill is widened. A
    // callback that needs its context's counter exact where the kernel's precision keeps it is refused.
    if (cs === undefined) continue;
    // Both spilled, whatever their sizes (the kernel compares the spilled registers only); zero bytes
    // (a narrow store of zero) count as a spilled zero, which widens more than the kernel does.
    const b = slot * 8 + cs.start;
    const old = os !== undefined ? os.reg
      : os_.types.slice(b, b + cs.size).every((t) => t === SLOT_ZERO) ? ZERO_SCALAR : undefined;
    if (old === undefined) continue;
    const w = widen(old, cs.reg);
    if (w !== undefined) cs_.replaceSpill(slot, w);
  }
}

function sameCallsites(a: VState, b: VState): boolean {
  if (a.frames.length !== b.frames.length) return false;
  for (let i = 0; i < a.frames.length; i++) if (a.frames[i]!.callsite !== b.frames[i]!.callsite) return false;
  return true;
}
