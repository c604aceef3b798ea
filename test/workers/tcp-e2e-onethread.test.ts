// The TCP exchange of tcp-e2e-app.ts on one thread: two Nets joined by a veth pair on a virtual
// clock, each running the setup module as its worker would (the host's client, the guest's
// server). What the four-worker test checks, without the workers: a failure here is the stack's.
import test from 'ava';
import { BootState } from '../../net/core/boot-state.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { VethDevice, veth_pair, veth_poll } from '../../net/core/veth.ts';
import { register_netdevice } from '../../net/core/dev.ts';
import { NSEC_PER_MSEC } from '../../net/core/clock.ts';
import { setup, type TcpE2eData } from './tcp-e2e-app.ts';

const MAC_HOST = [0x02, 0, 0, 0, 0x01, 0xfe];
const MAC_GUEST = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

function exchange(family: 4 | 6, hostBytes: number, guestBytes: number, o: { staticNeigh?: boolean; queue_len?: number; dropEvery?: number; dropToGuest?: (n: number) => boolean; mtu?: number; ms?: number; app?: Partial<TcpE2eData> } = {}) {
  const clock = new VirtualClock();
  const hnet = new Net(new BootState({ clock, seed: 2 }));
  const gnet = new Net(new BootState({ clock, seed: 1 }));
  const br0 = new VethDevice('br0', Uint8Array.from(MAC_HOST), { queue_len: o.queue_len, mtu: o.mtu });
  const eth0 = new VethDevice('eth0', Uint8Array.from(MAC_GUEST), { queue_len: o.queue_len, mtu: o.mtu });
  veth_pair(br0, eth0);
  // A lossy wire: every dropEvery-th frame queued for each device is lost before it arrives.
  let lost = 0;
  if (o.dropEvery !== undefined) {
    for (const dev of [br0, eth0]) {
      let seen = 0;
      dev.on_rx = () => {
        if (++seen % o.dropEvery! === 0) { dev.rxq.pop(); lost++; }
      };
    }
  }
  if (o.dropToGuest !== undefined) {
    let seen = 0;
    eth0.on_rx = () => {
      if (o.dropToGuest!(++seen)) { eth0.rxq.pop(); lost++; }
    };
  }
  register_netdevice(hnet, br0);
  register_netdevice(gnet, eth0);
  const base = { family, hostBytes, guestBytes, ...o.app };
  const g = setup({ machine: 'guest', net: gnet, dev: eth0, data: { role: 'server', ...base, ...(o.staticNeigh ? { peerMac: MAC_HOST } : {}) } satisfies TcpE2eData });
  const h = setup({ machine: 'host', net: hnet, dev: br0, data: { role: 'client', ...base, ...(o.staticNeigh ? { peerMac: MAC_GUEST } : {}) } satisfies TcpE2eData });
  let ms = 0;
  for (; ms < (o.ms ?? 60_000); ms++) {
    for (let k = 0; k < 8; k++) {
      const n = h.poll() + g.poll() + veth_poll(br0) + veth_poll(eth0);
      if (n === 0) break;
    }
    if (h.counters()['tcp_e2e_done'] === 1 && g.counters()['tcp_e2e_done'] === 1) break;
    clock.advance(NSEC_PER_MSEC);
  }
  return { h: h.counters(), g: g.counters(), ms, lost };
}

for (const family of [4, 6] as const) {
  test(`one thread, IPv${family}: 1 MiB each way at once arrives byte-exact`, (t) => {
    const r = exchange(family, 1 << 20, 1 << 20);
    t.log(`${r.ms} virtual ms; host InSegs/OutSegs ${r.h['tcp_InSegs']}/${r.h['tcp_OutSegs']}, guest ${r.g['tcp_InSegs']}/${r.g['tcp_OutSegs']}`);
    t.is(r.g['tcp_e2e_rx_bad_bytes'], 0, `guest: first bad byte at ${r.g['tcp_e2e_first_bad_off']}`);
    t.is(r.h['tcp_e2e_rx_bad_bytes'], 0, `host: first bad byte at ${r.h['tcp_e2e_first_bad_off']}`);
    t.is(r.g['tcp_e2e_rx_ok_bytes'], 1 << 20);
    t.is(r.h['tcp_e2e_rx_ok_bytes'], 1 << 20);
    t.is(r.g['tcp_e2e_done'], 1);
    t.is(r.h['tcp_e2e_done'], 1);
  });
}

for (const family of [4, 6] as const) {
  test(`one thread, IPv${family}, a wire losing every 50th frame each way: drops, retransmissions, every byte exact`, (t) => {
    const r = exchange(family, 1 << 20, 1 << 20, { dropEvery: 50, staticNeigh: true });
    t.log(`${r.ms} virtual ms, ${r.lost} frames lost; host retrans ${r.h['tcp_RetransSegs']} timeouts ${r.h['tcp_TCPTimeouts']} fast ${r.h['tcp_TCPFastRetrans']}; guest retrans ${r.g['tcp_RetransSegs']} timeouts ${r.g['tcp_TCPTimeouts']} fast ${r.g['tcp_TCPFastRetrans']}`);
    t.is(r.g['tcp_e2e_rx_bad_bytes'], 0, `guest: first bad byte at ${r.g['tcp_e2e_first_bad_off']}`);
    t.is(r.h['tcp_e2e_rx_bad_bytes'], 0, `host: first bad byte at ${r.h['tcp_e2e_first_bad_off']}`);
    t.is(r.g['tcp_e2e_rx_ok_bytes'], 1 << 20);
    t.is(r.h['tcp_e2e_rx_ok_bytes'], 1 << 20);
    t.is(r.g['tcp_e2e_done'], 1);
    t.is(r.h['tcp_e2e_done'], 1);
    t.true(r.lost > 0);
    t.true(r.h['tcp_RetransSegs']! > 0 && r.g['tcp_RetransSegs']! > 0, 'both senders retransmitted');
  });
}

// Found by the four-worker lossy run (1 in ~8): the guest's out-of-order queue took the whole
// receive buffer (64 skbs of 2048 truesize = sk_rcvbuf 131072, with segments under half a
// buffer's worth of payload each), the receive queue was empty, and the retransmission that fills
// the hole was dropped as SKB_DROP_REASON_PROTO_MEM (TCPRcvQDrop) every time: the transfer stalls
// for good. Linux accepts an in-order segment when the receive queue is empty
// (sk_forced_mem_schedule in tcp_data_queue) and otherwise prunes the out-of-order queue
// (tcp_prune_queue -> tcp_prune_ofo_queue) to make room for it. Here: small segments (an MTU
// of 740: 700 bytes a segment, 2048 of truesize), one segment lost once the window is open.
test('one thread: a hole behind an out-of-order queue that fills the receive buffer is still filled (tcp_prune_ofo_queue / forced schedule)', (t) => {
  const r = exchange(4, 256 * 1024, 0, {
    staticNeigh: true, ms: 20_000, mtu: 740,
    dropToGuest: (n) => n === 200,
  });
  t.log(`${r.ms} virtual ms, ${r.lost} lost; guest rx ${r.g['tcp_e2e_rx_ok_bytes']}, RcvQDrop ${r.g['tcp_TCPRcvQDrop']}, OFODrop ${r.g['tcp_TCPOFODrop']}, ` +
    `OfoPruned ${r.g['tcp_OfoPruned']}, ofo qlen ${r.g['sk_ofo_qlen']}, rmem ${r.g['sk_rmem_alloc']}/${r.g['sk_rcvbuf']}; host timeouts ${r.h['tcp_TCPTimeouts']}`);
  t.is(r.g['tcp_e2e_rx_bad_bytes'], 0);
  t.is(r.g['tcp_e2e_rx_ok_bytes'], 256 * 1024, 'the guest read the whole stream');
  t.is(r.g['tcp_e2e_done'], 1);
});
