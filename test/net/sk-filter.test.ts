// Socket filters (SO_ATTACH_BPF) with real traffic: a drop-all filter on UDP sockets (v4 and v6:
// nothing read, every datagram counted in sk_drops, InErrors and as SOCKET_FILTER), a trimming
// filter (the first N bytes read), a filter reading the payload with LD_ABS, SO_DETACH_BPF
// restoring delivery, the fd route and its errnos, SO_LOCK_FILTER, and TCP's tcp_filter on a
// listener (SYNs dropped until detached; children inherit the filter). Both engines.
import test from 'ava';
import { ENGINES, sockProg, tcProg, threeHosts, udpSocket, ret } from './cls-bpf-progs.ts';
import { MAC_A, MAC_B, ethFrame, inject, ip4Packet, recordDrops } from './support/topology.ts';
import { bpf_tc_attach } from '../../net/sched/cls-bpf.ts';
import { ETH_P_IP } from '../../net/core/skbuff.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE } from '../../bpf-vm/maps/map.ts';
import {
  SO_FILTER, sk_attach_bpf, sk_detach_filter, sk_filter, sk_filter_set_fd_table,
} from '../../net/core/sk-filter.ts';
import { E } from '../../net/core/sock-opts.ts';
import { SOL_SOCKET } from '../../net/core/socket-options.ts';
import { AF_INET, AF_INET6, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import { Socket } from '../../net/socket.ts';
import type { Sockaddr, SockaddrIn } from '../../net/core/msghdr.ts';
import { bpf_net_show_text, bpf_prog_get_id } from '../../net/core/bpf-show.ts';

const sin = (addr: number, port: number): SockaddrIn => ({ family: AF_INET, addr, port });
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array, n: number): string => new TextDecoder().decode(b.subarray(0, n));

/** Every datagram waiting on s, as text. */
function readAll(s: Socket): string[] {
  const out: string[] = [];
  const buf = new Uint8Array(256);
  for (;;) {
    const n = s.recv(buf);
    if (n < 0) return out;
    out.push(text(buf, n));
  }
}

for (const engine of ENGINES) {
  test.serial(`[${engine}] a drop-all filter on a UDP socket: nothing is read, each datagram counted; SO_DETACH_BPF restores delivery`, (t) => {
    const drops = recordDrops();
    try {
      const h = threeHosts();
      const srv = udpSocket(h.a);
      t.is(srv.bind(sin(0, 7000)), 0);
      t.is(sk_attach_bpf(srv.sk, sockProg(ret(0), 'drop_all'), { engine }), 0);
      const cli = udpSocket(h.b);
      for (const m of ['one', 'two', 'three']) cli.sendto(bytes(m), sin(h.a4, 7000));
      h.pump();
      t.deepEqual(readAll(srv), []);
      t.is(srv.sk.sk_drops, 3);
      t.is(h.a.mib.udp.InErrors, 3);
      t.is(h.a.mib.udp.InCsumErrors, 0);
      t.deepEqual(drops.drops, ['SOCKET_FILTER', 'SOCKET_FILTER', 'SOCKET_FILTER']);
      t.is(sk_filter(srv.sk)!.stats.drops, 3);
      t.is(srv.setsockopt(SOL_SOCKET, SO_FILTER.SO_DETACH_BPF, 0), 0);
      t.is(srv.setsockopt(SOL_SOCKET, SO_FILTER.SO_DETACH_BPF, 0), -E.ENOENT);
      cli.sendto(bytes('four'), sin(h.a4, 7000));
      h.pump();
      t.deepEqual(readAll(srv), ['four']);
      t.is(srv.sk.sk_drops, 3);
    } finally {
      drops.stop();
    }
  });

  test.serial(`[${engine}] a trimming filter: the socket reads the first N bytes of each datagram (never less than the UDP header)`, (t) => {
    const h = threeHosts();
    const srv = udpSocket(h.a);
    t.is(srv.bind(sin(0, 7000)), 0);
    // 8 bytes of UDP header + 5 of payload.
    t.is(sk_attach_bpf(srv.sk, sockProg(ret(13), 'keep13'), { engine }), 0);
    const cli = udpSocket(h.b);
    cli.sendto(bytes('hello world'), sin(h.a4, 7000));
    cli.sendto(bytes('hi'), sin(h.a4, 7000));
    h.pump();
    t.deepEqual(readAll(srv), ['hello', 'hi']);
    t.is(sk_filter(srv.sk)!.stats.trims, 1);
    // Less than the header keeps the header: an empty datagram.
    t.is(sk_attach_bpf(srv.sk, sockProg(ret(3), 'keep3'), { engine }), 0);
    cli.sendto(bytes('gone'), sin(h.a4, 7000));
    h.pump();
    t.deepEqual(readAll(srv), ['']);
    t.is(srv.sk.sk_drops, 0);
  });

  test.serial(`[${engine}] a filter reading the payload (LD_ABS from the UDP header) drops datagrams starting with "x"`, (t) => {
    const h = threeHosts();
    const srv = udpSocket(h.a);
    t.is(srv.bind(sin(0, 7000)), 0);
    const src = `mov %r6, %r1\nldabsb 8\njeq %r0, 0x78, drop\nmov %r0, -1\nexit\ndrop:\nmov %r0, 0\nexit`;
    t.is(sk_attach_bpf(srv.sk, sockProg(src, 'no_x'), { engine }), 0);
    const cli = udpSocket(h.b);
    for (const m of ['keep', 'xdrop', 'also', 'x']) cli.sendto(bytes(m), sin(h.a4, 7000));
    h.pump();
    t.deepEqual(readAll(srv), ['keep', 'also']);
    t.is(srv.sk.sk_drops, 2);
  });

  test.serial(`[${engine}] IPv6: a drop-all filter counts Udp6InErrors and sk_drops; detached, datagrams arrive`, (t) => {
    const h = threeHosts();
    const srv = udpSocket(h.a, AF_INET6);
    const any6: Sockaddr = { family: AF_INET6, addr: h.a6, port: 7000 };
    t.is(srv.bind(any6), 0);
    t.is(sk_attach_bpf(srv.sk, sockProg(ret(0)), { engine }), 0);
    const cli = udpSocket(h.b, AF_INET6);
    cli.sendto(bytes('v6'), any6);
    cli.sendto(bytes('v6'), any6);
    h.advance(5);
    t.deepEqual(readAll(srv), []);
    t.is(srv.sk.sk_drops, 2);
    t.is(h.a.mib.ipv6.Udp6InErrors, 2);
    t.is(sk_detach_filter(srv.sk), 0);
    cli.sendto(bytes('v6 again'), any6);
    h.pump();
    t.deepEqual(readAll(srv), ['v6 again']);
  });

  test.serial(`[${engine}] TCP: a listener's drop-all filter drops SYNs (no SYN-ACK, sk_drops); detached, the retransmitted SYN connects; the child inherits a filter`, (t) => {
    const drops = recordDrops();
    try {
      const h = threeHosts();
      const ls = Socket.create(h.a, AF_INET, SOCK_STREAM) as Socket;
      t.is(ls.bind(sin(0, 80)), 0);
      t.is(ls.listen(8), 0);
      t.is(sk_attach_bpf(ls.sk, sockProg(ret(0), 'drop_all'), { engine }), 0);
      const cli = Socket.create(h.b, AF_INET, SOCK_STREAM) as Socket;
      t.is(cli.connect(sin(h.a4, 80)), -E.EINPROGRESS);
      h.pump();
      t.is(ls.sk.sk_drops, 1);
      t.is(drops.drops.filter((d) => d === 'SOCKET_FILTER').length, 1);
      t.is(h.a.mib.tcp.OutRsts, 0, 'no RST for a filtered segment');
      t.is(cli.sk.skc_state, TCP_STATES.TCP_SYN_SENT);
      // A filter that keeps everything (-1: more than any segment) replaces it; the SYN retransmits after 1 s.
      t.is(sk_attach_bpf(ls.sk, sockProg(ret(-1), 'keep_all'), { engine }), 0);
      h.advance(1100);
      t.is(cli.sk.skc_state, TCP_STATES.TCP_ESTABLISHED);
      const child = ls.accept();
      t.true(child instanceof Socket);
      const c = child as Socket;
      t.is(sk_filter(c.sk)?.prog.name, 'keep_all', 'inherited from the listener');
      cli.send(bytes('data'));
      h.pump();
      const buf = new Uint8Array(16);
      t.is(c.recv(buf), 4);
      t.is(sk_filter(c.sk)!.stats.runs > 0, true);
    } finally {
      drops.stop();
    }
  });
}

for (const engine of ENGINES) {
  test.serial(`[${engine}] the filter sees __sk_buff.cb zeroed (bpf_prog_run_save_cb), whatever tc wrote there`, (t) => {
    const h = threeHosts();
    const srv = udpSocket(h.a);
    t.is(srv.bind(sin(0, 7000)), 0);
    // tc ingress writes cb[0] = 5; the filter keeps the datagram only if cb[0] reads 0.
    t.is(typeof bpf_tc_attach(h.deva, 'ingress', tcProg('mov32 %r2, 5\nstxw [%r1+48], %r2\nmov %r0, 0\nexit'), { engine }), 'object');
    t.is(sk_attach_bpf(srv.sk, sockProg('ldxw %r2, [%r1+48]\nmov %r0, -1\njeq %r2, 0, out\nmov %r0, 0\nout:\nexit'), { engine }), 0);
    const cli = udpSocket(h.b);
    cli.sendto(bytes('cb'), sin(h.a4, 7000));
    h.pump();
    t.deepEqual(readAll(srv), ['cb']);
  });

  test.serial(`[${engine}] with a filter attached a bad UDP checksum is caught first: InCsumErrors, InErrors, sk_drops; the filter never runs`, (t) => {
    const drops = recordDrops();
    try {
      const h = threeHosts();
      const srv = udpSocket(h.a);
      t.is(srv.bind(sin(0, 7000)), 0);
      t.is(sk_attach_bpf(srv.sk, sockProg(ret(-1)), { engine }), 0);
      const udp = new Uint8Array([0x15, 0xb3, 0x1b, 0x58, 0, 10, 0x12, 0x34, 0x41, 0x42]);
      inject(h.deva, ethFrame(MAC_A, MAC_B, ETH_P_IP, ip4Packet({ src: h.b4, dst: h.a4, proto: 17, payload: udp })));
      h.pump();
      t.deepEqual(readAll(srv), []);
      t.deepEqual([h.a.mib.udp.InCsumErrors, h.a.mib.udp.InErrors, srv.sk.sk_drops], [1, 1, 1]);
      t.deepEqual(drops.drops, ['UDP_CSUM']);
      t.is(sk_filter(srv.sk)!.stats.runs, 0);
    } finally {
      drops.stop();
    }
  });

  test.serial(`[${engine}] TCP over IPv6: a listener's drop-all filter drops the SYN (tcp_v6_rcv's tcp_filter)`, (t) => {
    const h = threeHosts();
    const ls = Socket.create(h.a, AF_INET6, SOCK_STREAM) as Socket;
    t.is(ls.bind({ family: AF_INET6, addr: h.a6, port: 80 }), 0);
    t.is(ls.listen(8), 0);
    t.is(sk_attach_bpf(ls.sk, sockProg(ret(0)), { engine }), 0);
    const cli = Socket.create(h.b, AF_INET6, SOCK_STREAM) as Socket;
    t.is(cli.connect({ family: AF_INET6, addr: h.a6, port: 80 }), -E.EINPROGRESS);
    h.advance(5);
    t.is(ls.sk.sk_drops, 1);
    t.is(cli.sk.skc_state, TCP_STATES.TCP_SYN_SENT);
    t.is(sk_detach_filter(ls.sk), 0);
    h.advance(1100);
    t.is(cli.sk.skc_state, TCP_STATES.TCP_ESTABLISHED);
  });
}

test('SO_ATTACH_BPF by fd: EBADF, EINVAL for a map or another program type, then attached; SO_LOCK_FILTER; SO_GET_FILTER', (t) => {
  const h = threeHosts();
  const s = udpSocket(h.a);
  t.is(s.setsockopt(SOL_SOCKET, SO_FILTER.SO_ATTACH_BPF, 3), -E.EBADF, 'no fd table in this netns');
  const fds = new FdTable();
  sk_filter_set_fd_table(h.a, fds, { engine: 'interp' });
  const mapFd = fds.add(createMap({ name: 'm', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, flags: 0 }));
  const tcFd = fds.addProgram(tcProg(ret(0)));
  const fd = fds.addProgram(sockProg(ret(0), 'drop_all'));
  t.is(s.setsockopt(SOL_SOCKET, SO_FILTER.SO_ATTACH_BPF, 99), -E.EBADF);
  t.is(s.setsockopt(SOL_SOCKET, SO_FILTER.SO_ATTACH_BPF, mapFd), -E.EINVAL);
  t.is(s.setsockopt(SOL_SOCKET, SO_FILTER.SO_ATTACH_BPF, tcFd), -E.EINVAL);
  t.is(s.setsockopt(SOL_SOCKET, SO_FILTER.SO_ATTACH_BPF, new Uint8Array(8)), -E.EINVAL, 'optlen must be 4');
  t.is(s.getsockopt(SOL_SOCKET, SO_FILTER.SO_GET_FILTER).err, 0);
  t.is(s.setsockopt(SOL_SOCKET, SO_FILTER.SO_ATTACH_BPF, fd), 0);
  t.is(sk_filter(s.sk)?.prog.name, 'drop_all');
  t.is(s.getsockopt(SOL_SOCKET, SO_FILTER.SO_GET_FILTER).err, -E.EACCES, 'an eBPF filter has no classic form');
  t.is(sk_attach_bpf(s.sk, tcProg(ret(0))), -E.EINVAL);
  // Locked: no detach, no attach, no unlock.
  t.is(s.setsockopt(SOL_SOCKET, SO_FILTER.SO_LOCK_FILTER, 1), 0);
  t.deepEqual(s.getsockopt(SOL_SOCKET, SO_FILTER.SO_LOCK_FILTER), { err: 0, value: 1 });
  t.is(s.setsockopt(SOL_SOCKET, SO_FILTER.SO_DETACH_BPF, 0), -E.EPERM);
  t.is(s.setsockopt(SOL_SOCKET, SO_FILTER.SO_ATTACH_BPF, fd), -E.EPERM);
  t.is(s.setsockopt(SOL_SOCKET, SO_FILTER.SO_LOCK_FILTER, 0), -E.EPERM);
  t.is(s.bind(sin(0, 7000)), 0);
  // The listing names the filtered socket when asked.
  const text = bpf_net_show_text(h.a, { sockets: [s.sk] });
  t.true(text.endsWith(`sk_filter:\nudp port 7000 drop_all id ${bpf_prog_get_id(sk_filter(s.sk)!.prog)}\n\n`), text);
});
