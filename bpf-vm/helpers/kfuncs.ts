// The kfuncs' implementations (a BPF_PSEUDO_KFUNC_CALL's target, by the FUNC's id in vxo's kernel
// BTF). Each is a HelperProto whose argument count is its prototype's, so that both engines call
// it as they call a helper: r1-r5 in env.R, r0 back in env.R[0..1]. The verifier's checks
// (program types, KF_TRUSTED_ARGS, the mem/__sz pair) are its own; what an unverified program can
// get wrong here faults, as a bad helper argument does.
import { kernelBtf } from '../btf/kernel-btf.ts';
import { ERRNO } from '../errno.ts';
import type { ExecEnv } from '../interp/env.ts';
import { ARG, RET, type ArgKind, type HelperProto } from './proto.ts';

/** sizeof(struct bpf_tcp_req_attrs): what the program's attrs__sz must be (the host checks it). */
const BPF_TCP_REQ_ATTRS_SIZE = 20;
/** attrs as read from the program's memory, handed to the host for the call only. */
const ATTRS = new Uint8Array(BPF_TCP_REQ_ATTRS_SIZE);
const NO_ATTRS: Uint8Array = new Uint8Array(0);

type KfuncImpl = (env: ExecEnv) => void;

/**
 * bpf_sk_assign_tcp_reqsk(struct __sk_buff *s, struct sock *sk, struct bpf_tcp_req_attrs *attrs,
 * int attrs__sz): the stack's checks and the request are the host's (net/core/bpf-tcp-reqsk.ts);
 * a host without the kfunc answers -EOPNOTSUPP, as a kernel without CONFIG_SYN_COOKIES.
 */
function bpf_sk_assign_tcp_reqsk(env: ExecEnv): void {
  const R = env.R;
  const sk = env.socks.get(R[5]!);
  if (sk === undefined) throw env.fault('bpf_sk_assign_tcp_reqsk: R2 is not a socket pointer');
  const skb = env.skb;
  if (skb === undefined) throw env.fault('bpf_sk_assign_tcp_reqsk called without an skb');
  const sz = R[8]! | 0;
  // The host reads at least sz bytes (it refuses any size but 20 before reading): the attributes
  // are copied into one buffer, with no allocation on the path a valid call takes.
  let attrs = NO_ATTRS;
  if (sz > 0) {
    const mem = env.resolveMem(R[6]!, R[7]!, sz, false, 'bpf_sk_assign_tcp_reqsk attrs');
    if (sz <= BPF_TCP_REQ_ATTRS_SIZE) {
      for (let i = 0; i < sz; i++) ATTRS[i] = mem.u8[env.addr + i]!;
      attrs = ATTRS;
    } else {
      attrs = mem.u8.subarray(env.addr, env.addr + sz);
    }
  }
  const host = env.netHost;
  if (host?.sk_assign_tcp_reqsk === undefined) { env.setR0Int(-ERRNO.EOPNOTSUPP); return; }
  env.setR0Int(host.sk_assign_tcp_reqsk(skb, sk, attrs, sz, env.skbAtIngress));
}

/** bpf_rcu_read_lock / unlock: nothing to do, vxo has no concurrent RCU writers during a run. */
function rcuNoop(env: ExecEnv): void {
  env.setR0(0, 0);
}

let skBuffId = 0;
/** bpf_cast_to_kern_ctx(ctx): the skb behind struct __sk_buff as struct sk_buff (NULL where vxo has no kernel context struct). */
function bpf_cast_to_kern_ctx(env: ExecEnv): void {
  const skb = env.skb;
  if (skb === undefined) { env.setR0(0, 0); return; }
  if (skBuffId === 0) skBuffId = kernelBtf().typeId('sk_buff', 'struct') ?? 0;
  env.setR0(0, env.socks.views.make(skb, skBuffId, -1, env.pc, env.netHost));
}

/**
 * bpf_rdonly_cast(obj, btf_id): the object a socket or BTF pointer names, as struct btf_id (an
 * untrusted pointer: loads through it are probe loads); NULL for anything else.
 */
function bpf_rdonly_cast(env: ExecEnv): void {
  const R = env.R;
  const hi = R[3]!;
  const views = env.socks.views;
  const obj = views.owns(hi) ? views.objectOf(hi) : env.socks.get(hi);
  const id = R[4]! >>> 0;
  if (obj === undefined || kernelBtf().struct(id) === undefined) { env.setR0(0, 0); return; }
  env.setR0(0, views.make(obj, id, -1, env.pc, env.netHost));
}

const IMPLS: ReadonlyMap<string, KfuncImpl> = new Map([
  ['bpf_sk_assign_tcp_reqsk', bpf_sk_assign_tcp_reqsk],
  ['bpf_rcu_read_lock', rcuNoop],
  ['bpf_rcu_read_unlock', rcuNoop],
  ['bpf_cast_to_kern_ctx', bpf_cast_to_kern_ctx],
  ['bpf_rdonly_cast', bpf_rdonly_cast],
]);

const protos = new Map<number, HelperProto | null>();

/**
 * The implementation of the kfunc whose BTF FUNC id is `funcId` (a kfunc call's imm), or undefined
 * when vxo's kernel BTF has no such kfunc or vxo does not implement it.
 */
export function kfuncProto(funcId: number): HelperProto | undefined {
  const known = protos.get(funcId);
  if (known !== undefined) return known ?? undefined;
  const k = kernelBtf().kfuncById(funcId);
  const impl = k === undefined ? undefined : IMPLS.get(k.spec.name);
  let p: HelperProto | null = null;
  if (k !== undefined && impl !== undefined) {
    const args: ArgKind[] = k.spec.params.map(() => ARG.ARG_ANYTHING);
    p = { id: funcId, name: k.spec.name.replace(/^bpf_/, ''), args, ret: RET.RET_INTEGER, impl };
  }
  protos.set(funcId, p);
  return p ?? undefined;
}

/** The kfunc names vxo implements (tests check every KERNEL_KFUNCS entry has one). */
export const IMPLEMENTED_KFUNCS: readonly string[] = [...IMPLS.keys()];
