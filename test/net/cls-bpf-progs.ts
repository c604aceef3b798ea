// tc and socket-filter programs for the net tests, in bpf-vm's assembler syntax, and a three-host
// topology: a (10.0.0.1 on veth0 and 10.0.1.1 on veth1), b (10.0.0.2, a's veth0 peer) and
// c (10.0.1.2, a's veth1 peer), so a's tc programs can redirect between two devices.
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { BootState } from '../../net/core/boot-state.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { VethDevice, veth_pair, veth_poll } from '../../net/core/veth.ts';
import { net_tx_action, register_netdevice } from '../../net/core/dev.ts';
import { inet_pton4 } from '../../net/core/inet-addr.ts';
import { AF_INET } from '../../net/core/socket-constants.ts';
import { loopback_init, loopback_poll } from '../../net/core/loopback.ts';
import { neigh_add_static } from '../../net/core/neighbour.ts';
import { ip_init } from '../../net/ipv4/ip-output.ts';
import { inet_addr_add } from '../../net/ipv4/devinet.ts';
import { ipv6_init } from '../../net/ipv6/ip6-output.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import { Socket } from '../../net/socket.ts';
import { NSEC_PER_MSEC } from '../../net/core/clock.ts';
import { twoHosts, MAC_A, MAC_B, type TwoHosts } from './support/topology.ts';

export const ENGINES = ['interp', 'jit'] as const;

/** A SCHED_CLS program (section "tc") from assembly. */
export function tcProg(src: string, name = 'tc_prog'): Program {
  return { name, section: 'tc', type: BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS, insns: assemble(src), funcs: [], license: 'GPL', fds: new FdTable() };
}

/** A SOCKET_FILTER program (section "socket") from assembly. */
export function sockProg(src: string, name = 'sock_filter'): Program {
  return { name, section: 'socket', type: BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER, insns: assemble(src), funcs: [], license: 'GPL', fds: new FdTable() };
}

/** A 16-bit port as ldxh reads it from the packet (network order bytes, little-endian load). */
export const be16 = (p: number): number => ((p & 0xff) << 8) | (p >>> 8);

/**
 * tc: SHOT for IPv4 UDP to `port` (IHL 5), else `otherwise` (TC_ACT_UNSPEC by default: the next
 * filter decides). Direct packet access through __sk_buff data / data_end.
 */
export function dropUdpPort(port: number, otherwise = -1): string {
  return `
ldxw %r2, [%r1+76]
ldxw %r3, [%r1+80]
mov %r4, %r2
add %r4, 42
jgt %r4, %r3, pass
ldxh %r5, [%r2+12]
jne %r5, 0x0008, pass
ldxb %r5, [%r2+23]
jne %r5, 17, pass
ldxh %r5, [%r2+36]
jne %r5, ${be16(port)}, pass
mov %r0, 2
exit
pass:
mov %r0, ${otherwise}
exit`;
}

/** tc: skb->mark = mark, then `ret`. */
export const setMark = (mark: number, ret = -1): string => `mov32 %r2, ${mark}\nstxw [%r1+8], %r2\nmov %r0, ${ret}\nexit`;

/** tc: OK when skb->mark == mark, else SHOT. */
export const requireMark = (mark: number): string => `ldxw %r2, [%r1+8]\njne %r2, ${mark}, drop\nmov %r0, 0\nexit\ndrop:\nmov %r0, 2\nexit`;

/** tc: bpf_redirect(ifindex, flags) and return its result (TC_ACT_REDIRECT). */
export const redirect = (ifindex: number, flags: number): string => `mov %r1, ${ifindex}\nmov %r2, ${flags}\ncall 23\nexit`;

/** Returns a constant. */
export const ret = (r0: number): string => `mov %r0, ${r0}\nexit`;

export interface ThreeHosts extends TwoHosts {
  c: Net;
  /** a's second device (10.0.1.1) and c's (10.0.1.2). */
  deva1: VethDevice;
  devc: VethDevice;
  a1_4: number;
  c4: number;
}

export const MAC_A1 = new Uint8Array([0x02, 0, 0, 0, 0, 0x11]);
export const MAC_C = new Uint8Array([0x02, 0, 0, 0, 0, 0x03]);

/** twoHosts plus c behind a's second veth; UDP and TCP everywhere; pump() also drains the receive backlogs (net_tx_action). */
export function threeHosts(seed = 1): ThreeHosts {
  const h = twoHosts({ staticNeigh: true, seed, init: (net) => { udp_init(net); tcp_init(net); } }) as ThreeHosts;
  const c = new Net(new BootState({ clock: h.clock, seed: seed + 7 }), { hash_mix: 0 });
  loopback_init(c);
  ip_init(c);
  ipv6_init(c);
  udp_init(c);
  tcp_init(c);
  const a1 = new VethDevice('veth1', MAC_A1);
  const c0 = new VethDevice('veth0', MAC_C);
  veth_pair(a1, c0);
  register_netdevice(h.a, a1);
  register_netdevice(c, c0);
  h.a1_4 = inet_pton4('10.0.1.1');
  h.c4 = inet_pton4('10.0.1.2');
  inet_addr_add(a1, h.a1_4, 24);
  inet_addr_add(c0, h.c4, 24);
  neigh_add_static(h.a, a1, AF_INET, h.c4, MAC_C);
  neigh_add_static(c, c0, AF_INET, h.a1_4, MAC_A1);
  h.c = c;
  h.deva1 = a1;
  h.devc = c0;
  const nets = [h.a, h.b, c];
  const devs = [h.deva, h.devb, a1, c0];
  h.pump = (): number => {
    let total = 0;
    for (;;) {
      let n = 0;
      for (const d of devs) n += veth_poll(d);
      for (const net of nets) {
        if (net.loopback_dev !== null) n += loopback_poll(net.loopback_dev);
        const q = net.dev_base.backlog.qlen;
        net_tx_action(net);
        n += q;
      }
      if (n === 0) return total;
      total += n;
    }
  };
  h.advance = (ms: number): void => {
    h.pump();
    for (let i = 0; i < ms; i++) {
      h.clock.advance(NSEC_PER_MSEC);
      h.pump();
    }
  };
  return h;
}

export function udpSocket(net: Net, family: number = AF_INET): Socket {
  const s = Socket.create(net, family, 2);
  if (typeof s === 'number') throw new Error(`socket: ${s}`);
  return s;
}

export { MAC_A, MAC_B };
