// Acquired references (sockets from the lookup helpers): a helper that acquires records the id and
// the instruction; a release (or a NULL check that shows nothing was acquired) drops it; the main
// program may not exit while holding one.
import { invalid, reject } from './env-types.ts';
import { UNKNOWN_SCALAR } from './reg-state.ts';
import type { VState } from './state.ts';

export function acquireRef(st: VState, id: number, insn: number): void {
  st.refs = [...st.refs, { id, insn }];
}

/**
 * Drops reference `id`; `invalidate` also turns every pointer that held it into a plain number
 * (a released socket may not be used again).
 */
export function releaseRef(st: VState, id: number, invalidate: boolean): void {
  const i = st.refs.findIndex((r) => r.id === id);
  if (i < 0) reject('reference has not been acquired before');
  st.refs = st.refs.filter((_, j) => j !== i);
  if (invalidate) st.mapAllRegs((r) => (r.refId === id ? UNKNOWN_SCALAR : r));
}

/**
 * check_resource_leak (-EINVAL): where the program may not hold a reference, `what` naming the
 * place as the kernel's second line does.
 */
export function checkResourceLeak(st: VState, what: string): void {
  const r = st.refs[0];
  if (r !== undefined) invalid(`Unreleased reference id=${r.id} alloc_insn=${r.insn}`, `${what} would lead to reference leak`);
  if (st.rcuLocks > 0) invalid(`${what} cannot be used inside bpf_rcu_read_lock-ed region`);
}

/** At the main program's exit. */
export function checkNoRefs(st: VState): void {
  checkResourceLeak(st, 'BPF_EXIT instruction in main prog');
}
