// The bpf_skc_to_* casts (net/core/filter.c): a socket pointer (a lookup's sock_common, a BTF
// pointer) as the kernel struct of what the socket is, PTR_TO_BTF_ID_OR_NULL, or NULL when it is
// something else. The result is a BTF view (interp/btf-views.ts) of the same socket tied to the
// argument's slot: a cast (is_ptr_cast_function), it shares the argument's reference, so releasing
// either releases the socket. In bpf_base_func_proto (CAP_PERFMON): every program type has them.
//
// What the socket is comes from the host, as bpf-vm never reads a socket itself: sk_fullsock, its
// struct bpf_sock (family, type, protocol of a full socket; state of any), and for tcp_sock whether
// it has a struct bpf_tcp_sock. Request and TIME_WAIT sockets are TCP's in every stack vxo has.
import { kernelBtf } from '../btf/kernel-btf.ts';
import type { ExecEnv } from '../interp/env.ts';
import { BPF_SOCK, BPF_SOCK_SIZE, BPF_TCP_SOCK_SIZE } from '../prog/bpf-sock.ts';
import type { BpfNetHost, BpfSockRef } from '../prog/sock-host.ts';
import { BTF_SOCK_TYPE } from '../btf/kernel-types.ts';
import { BPF_FUNC } from './ids.ts';
import { ARG, RET, type HelperProto } from './proto.ts';


const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const IPPROTO_UDP = 17;
const TCP_TIME_WAIT = 6;
const TCP_NEW_SYN_RECV = 12;

// The host's answers bpf-vm only inspects (struct bpf_sock, then struct bpf_tcp_sock): one
// buffer, reused by every call.
const SCRATCH_SIZE = Math.max(BPF_SOCK_SIZE, BPF_TCP_SOCK_SIZE);
const SCRATCH = new DataView(new ArrayBuffer(SCRATCH_SIZE));

/** What the cast checks, given the host and the socket. */
type Accept = (host: BpfNetHost, sk: BpfSockRef) => boolean;

/** The host's struct bpf_sock of sk in SCRATCH: family, type, protocol (full sockets), state. */
function bpfSock(host: BpfNetHost, sk: BpfSockRef): DataView {
  for (let o = 0; o < SCRATCH_SIZE; o += 4) SCRATCH.setUint32(o, 0);
  host.fill_bpf_sock(sk, SCRATCH, 0);
  return SCRATCH;
}

const isFull = (host: BpfNetHost, sk: BpfSockRef): boolean => host.sk_fullsock(sk) === sk;

function skcCast(id: number, struct: string, accept: Accept): HelperProto {
  const name = `skc_to_${struct}`;
  const helper = `bpf_${name}`;
  let btfId = 0;
  return {
    id,
    name,
    args: [ARG.ARG_PTR_TO_BTF_ID_SOCK_COMMON],
    ret: RET.RET_PTR_TO_BTF_ID_OR_NULL,
    retBtfStruct: struct,
    castsRef: true,
    impl(env: ExecEnv) {
      const R = env.R;
      // NULL in, NULL out (the kernel's `if (sk && ...)`).
      if (R[2] === 0 && R[3] === 0) { env.setR0(0, 0); return; }
      const sk = env.socks.get(R[3]!);
      if (sk === undefined) throw env.fault(`${helper}: R1 is not a socket pointer`);
      const host = env.netHost;
      if (host === undefined) throw env.fault(`${helper}: no network stack`);
      if (!accept(host, sk)) { env.setR0(0, 0); return; }
      if (btfId === 0) {
        const found = kernelBtf().typeId(struct, 'struct');
        if (found === undefined) throw new Error(`kernel BTF: no struct ${struct}`);
        btfId = found;
      }
      const socks = env.socks;
      env.setR0(0, socks.views.make(sk, btfId, socks.slotOf(R[3]!), env.pc, host));
    },
  };
}

/**
 * sk_fullsock(sk) && sk_protocol == IPPROTO_TCP: the host's answer, or (a host without it) whether
 * it has a struct bpf_tcp_sock, which it has for exactly those.
 */
const fullTcp: Accept = (host, sk) =>
  host.sk_is_tcp_fullsock !== undefined ? host.sk_is_tcp_fullsock(sk) : isFull(host, sk) && host.fill_bpf_tcp_sock(sk, SCRATCH, 0);

export const skcToTcpSock: HelperProto = skcCast(BPF_FUNC.skc_to_tcp_sock, BTF_SOCK_TYPE.BTF_SOCK_TYPE_TCP, fullTcp);

/** ... && sk_family == AF_INET6. */
export const skcToTcp6Sock: HelperProto = skcCast(BPF_FUNC.skc_to_tcp6_sock, BTF_SOCK_TYPE.BTF_SOCK_TYPE_TCP6,
  (host, sk) => fullTcp(host, sk) && bpfSock(host, sk).getUint32(BPF_SOCK.family, true) === AF_INET6);

/** sk_prot == &tcp_prot (or tcpv6_prot) && sk_state == TCP_TIME_WAIT: a TIME_WAIT mini socket. */
export const skcToTcpTimewaitSock: HelperProto = skcCast(BPF_FUNC.skc_to_tcp_timewait_sock, BTF_SOCK_TYPE.BTF_SOCK_TYPE_TCP_TW,
  (host, sk) => !isFull(host, sk) && bpfSock(host, sk).getUint32(BPF_SOCK.state, true) === TCP_TIME_WAIT);

/** sk_prot == &tcp_prot (or tcpv6_prot) && sk_state == TCP_NEW_SYN_RECV: a request socket. */
export const skcToTcpRequestSock: HelperProto = skcCast(BPF_FUNC.skc_to_tcp_request_sock, BTF_SOCK_TYPE.BTF_SOCK_TYPE_TCP_REQ,
  (host, sk) => !isFull(host, sk) && bpfSock(host, sk).getUint32(BPF_SOCK.state, true) === TCP_NEW_SYN_RECV);

/** sk_fullsock(sk) && sk_protocol == IPPROTO_UDP && sk_type == SOCK_DGRAM && sk_family == AF_INET6. */
export const skcToUdp6Sock: HelperProto = skcCast(BPF_FUNC.skc_to_udp6_sock, BTF_SOCK_TYPE.BTF_SOCK_TYPE_UDP6, (host, sk) => {
  if (!isFull(host, sk)) return false;
  const b = bpfSock(host, sk);
  return b.getUint32(BPF_SOCK.protocol, true) === IPPROTO_UDP && b.getUint32(BPF_SOCK.type, true) === SOCK_DGRAM &&
    b.getUint32(BPF_SOCK.family, true) === AF_INET6;
});

/** The casts, in id order. */
export const SKC_CASTS: readonly HelperProto[] = [skcToTcp6Sock, skcToTcpSock, skcToTcpTimewaitSock, skcToTcpRequestSock, skcToUdp6Sock];
