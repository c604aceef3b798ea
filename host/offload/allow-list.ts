// The RFC's helper allow list, enforced by the device itself: the RFC checked it only in the guest
// driver, so a guest that skipped its own filter could make the host run helpers that read host
// state (fib_lookup, get_numa_node_id, ...).
import { BPF_FUNC, type Insn } from '../../bpf-vm/index.ts';
import { VIRTIO_NET_BPF_OFFLOAD_HELPERS } from '../../virtio/index.ts';

export const OFFLOAD_ALLOWED_HELPERS: ReadonlySet<number> = new Set(Object.values(VIRTIO_NET_BPF_OFFLOAD_HELPERS));

const NAMES = new Map<number, string>(Object.entries(BPF_FUNC).map(([k, v]) => [v, k]));

/** `bpf_fib_lookup#69`, or `#N` for an id vxo has no name for. */
export function helperLabel(id: number): string {
  const n = NAMES.get(id);
  return n === undefined ? `#${id}` : `bpf_${n}#${id}`;
}

export interface RefusedCall {
  insn: number;
  /** Helper id, or -1 for a kfunc call (src_reg BPF_PSEUDO_KFUNC_CALL). */
  helper: number;
  reason: string;
}

/**
 * The first call the allow list refuses. bpf-to-bpf calls (src_reg 1) are not helper calls and
 * pass; kfunc calls (src_reg 2) are refused outright. ld_imm64 second halves are skipped so that
 * their imm is never read as an opcode.
 */
export function findRefusedCall(insns: readonly Insn[], allowed: ReadonlySet<number>): RefusedCall | undefined {
  for (let pc = 0; pc < insns.length; pc++) {
    const ins = insns[pc]!;
    if (ins.code === 0x18) { pc++; continue; }
    if (ins.code !== 0x85) continue;
    if (ins.src === 0 && !allowed.has(ins.imm)) {
      return { insn: pc, helper: ins.imm, reason: `insn ${pc}: helper ${helperLabel(ins.imm)} is not allowed in an offloaded program` };
    }
    if (ins.src === 2) return { insn: pc, helper: -1, reason: `insn ${pc}: kfunc calls are not allowed in an offloaded program` };
  }
  return undefined;
}
