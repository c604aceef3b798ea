// A tc ingress program steering connections with bpf_sk_assign (the transparent proxy building
// block, sockets.md's Cilium pattern) attached through cls_bpf: SYNs to a:7000, where nothing
// listens, are looked up to the proxy listener on a:9000 (bpf_sk_lookup_tcp), assigned to the skb
// and released; the stack's lookup takes the assigned socket, so the proxy accepts a connection
// whose local port is 7000. Other ports are untouched. Both engines.
import test from 'ava';
import { ENGINES, be16, tcProg, threeHosts } from './cls-bpf-progs.ts';
import { bpf_tc_attach } from '../../net/sched/cls-bpf.ts';
import { Socket } from '../../net/socket.ts';
import { AF_INET, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import type { SockaddrIn } from '../../net/core/msghdr.ts';

const sin = (addr: number, port: number): SockaddrIn => ({ family: AF_INET, addr, port });

/**
 * A SYN (no ACK) over IPv4 to `port` (IHL 5): look up the listener on (proxy address, proxy port)
 * and assign it; always TC_ACT_OK. The rest of the connection needs no steering: its request and
 * child sockets are in ehash under the original 4-tuple.
 */
function steer(port: number, proxyAddrBe: number, proxy: number): string {
  return `
mov %r6, %r1
ldxw %r2, [%r6+76]
ldxw %r3, [%r6+80]
mov %r4, %r2
add %r4, 54
jgt %r4, %r3, ok
ldxh %r5, [%r2+12]
jne %r5, 0x0008, ok
ldxb %r5, [%r2+23]
jne %r5, 6, ok
ldxh %r5, [%r2+36]
jne %r5, ${be16(port)}, ok
ldxb %r5, [%r2+47]
and %r5, 0x12
jne %r5, 0x02, ok
mov %r1, 0
stxw [%r10-16], %r1
mov32 %r1, ${proxyAddrBe}
stxw [%r10-12], %r1
mov %r1, 0
stxh [%r10-8], %r1
mov %r1, ${be16(proxy)}
stxh [%r10-6], %r1
mov %r1, %r6
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84
jeq %r0, 0, ok
mov %r7, %r0
mov %r1, %r6
mov %r2, %r7
mov %r3, 0
call 124
mov %r1, %r7
call 86
ok:
mov %r0, 0
exit`;
}

/** A host-order IPv4 address as a little-endian u32 store writes it in network order. */
const be32 = (a: number): number => (((a & 0xff) << 24) | ((a >>> 8 & 0xff) << 16) | ((a >>> 16 & 0xff) << 8) | (a >>> 24)) | 0;

for (const engine of ENGINES) {
  test.serial(`[${engine}] tc ingress bpf_sk_assign steers SYNs for port 7000 to the proxy listener on 9000`, (t) => {
    const h = threeHosts();
    const proxy = Socket.create(h.a, AF_INET, SOCK_STREAM) as Socket;
    t.is(proxy.bind(sin(h.a4, 9000)), 0);
    t.is(proxy.listen(8), 0);
    const f = bpf_tc_attach(h.deva, 'ingress', tcProg(steer(7000, be32(h.a4), 9000), 'tproxy'), { engine });
    t.is(typeof f, 'object');
    const cli = Socket.create(h.b, AF_INET, SOCK_STREAM) as Socket;
    t.is(cli.connect(sin(h.a4, 7000)), -115);
    h.advance(5);
    t.is(cli.sk.skc_state, TCP_STATES.TCP_ESTABLISHED);
    const child = proxy.accept();
    t.true(child instanceof Socket);
    t.is((child as Socket).getsockname().port, 7000, 'the original destination');
    // Port 7001 is not steered: refused.
    const other = Socket.create(h.b, AF_INET, SOCK_STREAM) as Socket;
    t.is(other.connect(sin(h.a4, 7001)), -115);
    h.advance(5);
    t.is(other.sk.skc_state, TCP_STATES.TCP_CLOSE);
  });
}
