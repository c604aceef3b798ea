// Socket lookup helpers (bpf_sk_lookup_tcp/udp, bpf_skc_lookup_tcp) and bpf_sk_release. The verifier
// treats a lookup's result as an acquired reference that must be NULL-checked and released on every
// path. vxo's host has no sockets: every lookup finds nothing and returns NULL, so no socket pointer
// ever exists at run time and bpf_sk_release is never reached with one (it returns 0 regardless).
// The kernel types bpf_skc_lookup_tcp's result as sock_common; vxo's prototypes have one socket
// return kind, which the verifier treats the same way (nullable, acquired, released by sk_release).
import { ARG, RET, type HelperProto } from './proto.ts';
import { BPF_FUNC } from './ids.ts';

/** (ctx, struct bpf_sock_tuple *tuple, u32 tuple_size, u64 netns, u64 flags) -> struct bpf_sock * or NULL. */
const LOOKUP_ARGS = [ARG.ARG_PTR_TO_CTX, ARG.ARG_PTR_TO_MEM, ARG.ARG_CONST_SIZE, ARG.ARG_ANYTHING, ARG.ARG_ANYTHING] as const;

function lookup(id: number, name: string): HelperProto {
  return {
    id,
    name,
    args: LOOKUP_ARGS,
    ret: RET.RET_PTR_TO_SOCKET_OR_NULL,
    acquires: true,
    impl(env) {
      env.setR0(0, 0);
    },
  };
}

export const skLookupTcp: HelperProto = lookup(BPF_FUNC.sk_lookup_tcp, 'sk_lookup_tcp');
export const skLookupUdp: HelperProto = lookup(BPF_FUNC.sk_lookup_udp, 'sk_lookup_udp');
export const skcLookupTcp: HelperProto = lookup(BPF_FUNC.skc_lookup_tcp, 'skc_lookup_tcp');

export const skRelease: HelperProto = {
  id: BPF_FUNC.sk_release,
  name: 'sk_release',
  args: [ARG.ARG_PTR_TO_SOCK_COMMON],
  ret: RET.RET_INTEGER,
  releases: true,
  impl(env) {
    env.setR0Int(0);
  },
};

export const SK_HELPERS: readonly HelperProto[] = [skLookupTcp, skLookupUdp, skRelease, skcLookupTcp];
