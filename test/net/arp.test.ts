// ARP and the neighbour state machine (net/ipv4/arp.ts, net/core/neighbour.ts): resolution with
// the waiting datagrams released by the reply, FAILED after three probes with the drop counted
// and the sender told, the bounded unresolved queue, static entries, REACHABLE -> STALE -> DELAY
// -> PROBE with a unicast probe, malformed ARP.
import test from 'ava';
import { MAC_A, MAC_B, capture, ethFrame, icmp4Msg, inject, recordDrops, twoHosts, type Captured, type TwoHosts } from './support/topology.ts';
import { MAX_HEADER, alloc_skb, skb_put, skb_reserve } from '../../net/core/skbuff.ts';
import { inet_pton4 } from '../../net/core/inet-addr.ts';
import { NUD, neigh_lookup4, neigh_state_name, sk_dst_confirm } from '../../net/core/neighbour.ts';
import { sk_alloc } from '../../net/core/sock.ts';
import { sk_daddr_set } from '../../net/core/sock-common.ts';
import { AF_INET, SOCK_DGRAM } from '../../net/core/socket-constants.ts';
import { IFF } from '../../net/core/netdevice.ts';
import { inet_addr_add } from '../../net/ipv4/devinet.ts';
import { ip_build_and_send_pkt, ip_queue_xmit } from '../../net/ipv4/ip-output.ts';
import { inet_protos } from '../../net/ipv4/protocol.ts';
import type { SkBuff } from '../../net/core/skbuff.ts';

const ETH_P_ARP = 0x0806;

function ping(h: TwoHosts, dst: number, seq: number): number {
  const skb = alloc_skb(MAX_HEADER + 16);
  skb_reserve(skb, MAX_HEADER);
  skb.head.set(icmp4Msg(8, 0, 0x00010000 | seq, new Uint8Array(8)), skb_put(skb, 16));
  return ip_build_and_send_pkt(skb, h.a, null, 0, dst, 1);
}

function arps(seen: Captured[], outgoing: boolean): Uint8Array[] {
  return seen.filter((f) => f.outgoing === outgoing && ((f.bytes[12]! << 8) | f.bytes[13]!) === ETH_P_ARP).map((f) => f.bytes);
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function state(h: TwoHosts, addr: number): string {
  const n = neigh_lookup4(h.a.ipv4.arp_tbl, addr, h.deva);
  return n === undefined ? 'none' : neigh_state_name(n.nud_state);
}

test('resolution: one broadcast request, the reply releases every waiting datagram in order', (t) => {
  const h = twoHosts();
  const seen = capture(h.a);
  for (let i = 1; i <= 3; i++) t.is(ping(h, h.b4, i), 0, 'queued counts as sent');
  t.is(state(h, h.b4), 'INCOMPLETE');
  const req = arps(seen, true);
  t.is(req.length, 1, 'one probe for three datagrams');
  const r = req[0]!;
  t.deepEqual([...r.subarray(0, 6)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 'broadcast');
  t.is((r[14]! << 8) | r[15]!, 1, 'hardware type Ethernet');
  t.is((r[16]! << 8) | r[17]!, 0x0800);
  t.is(r[18], 6);
  t.is(r[19], 4);
  t.is((r[20]! << 8) | r[21]!, 1, 'request');
  t.deepEqual([...r.subarray(22, 28)], [...MAC_A]);
  t.is(u32(r, 28), h.a4, 'sender: the waiting datagram\'s source');
  t.deepEqual([...r.subarray(32, 38)], [0, 0, 0, 0, 0, 0]);
  t.is(u32(r, 38), h.b4);
  h.pump();
  t.is(state(h, h.b4), 'REACHABLE');
  const rep = arps(seen, false);
  t.is(rep.length, 1);
  t.is((rep[0]![20]! << 8) | rep[0]![21]!, 2, 'reply');
  t.deepEqual([...rep[0]!.subarray(22, 28)], [...MAC_B]);
  // b learnt a from the request (STALE) and answered the echoes without asking.
  const nb = neigh_lookup4(h.b.ipv4.arp_tbl, h.a4, h.devb)!;
  t.true(nb.nud_state === NUD.NUD_STALE || nb.nud_state === NUD.NUD_DELAY);
  t.is(h.b.mib.arp.OutRequests, 0);
  const ipOut = seen.filter((f) => f.outgoing && f.bytes[12] === 0x08 && f.bytes[13] === 0x00);
  t.deepEqual(ipOut.map((f) => f.bytes[14 + 20 + 7]), [1, 2, 3], 'released oldest first');
  t.deepEqual([...ipOut[0]!.bytes.subarray(0, 6)], [...MAC_B]);
  t.is(h.a.mib.icmp.InEchoReps, 3);
  t.is(h.a.mib.arp.OutRequests, 1);
  t.is(h.a.mib.arp.InReplies, 1);
  t.is(h.b.mib.arp.InRequests, 1);
  t.is(h.b.mib.arp.OutReplies, 1);
});

test('FAILED after three probes a second apart: the datagram dropped (NEIGH_FAILED), its sender told', (t) => {
  const h = twoHosts();
  const seen = capture(h.a);
  const rec = recordDrops();
  try {
    const ghost = inet_pton4('10.0.0.7');
    t.is(ping(h, ghost, 1), 0);
    h.advance(999);
    t.is(arps(seen, true).length, 1);
    h.advance(1);
    t.is(arps(seen, true).length, 2, 'retransmitted at 1 s');
    h.advance(1000);
    t.is(arps(seen, true).length, 3, 'and at 2 s');
    t.is(state(h, ghost), 'INCOMPLETE');
    t.is(rec.drops.length, 0);
    h.advance(1000);
    t.is(arps(seen, true).length, 3, 'no fourth probe');
    t.is(state(h, ghost), 'FAILED');
    t.true(rec.drops.includes('NEIGH_FAILED'));
    t.true(arps(seen, true).every((f) => f[0] === 0xff), 'all broadcast');
    // The sender (ourselves) heard host unreachable, through lo.
    t.is(h.a.mib.icmp.OutDestUnreachs, 1);
    t.is(h.a.mib.icmp.InDestUnreachs, 1);
    t.is(h.a.ipv4.arp_tbl.stats.res_failed, 1);
  } finally {
    rec.stop();
  }
});

test('an ICMP error from a failed resolution reaches the protocol\'s err_handler', (t) => {
  const h = twoHosts();
  const got: { type: number; code: number; proto: number }[] = [];
  inet_protos[253] = {
    handler: () => 0,
    err_handler: (skb: SkBuff, type: number, code: number) => {
      got.push({ type, code, proto: skb.head[skb.data + 9]! });
      return 0;
    },
  };
  try {
    const skb = alloc_skb(MAX_HEADER + 8);
    skb_reserve(skb, MAX_HEADER);
    skb_put(skb, 8);
    t.is(ip_build_and_send_pkt(skb, h.a, null, 0, inet_pton4('10.0.0.9'), 253), 0);
    h.advance(3001);
    t.deepEqual(got, [{ type: 3, code: 1, proto: 253 }]);
  } finally {
    inet_protos[253] = undefined;
  }
});

test('the unresolved queue is bounded by unres_qlen_bytes: the oldest are dropped (QueueDrops)', (t) => {
  const h = twoHosts();
  const seen = capture(h.a);
  const rec = recordDrops();
  try {
    h.a.ipv4.arp_tbl.parms.queue_len_bytes = 3 * 2048;
    for (let i = 1; i <= 5; i++) ping(h, h.b4, i);
    t.deepEqual(rec.drops, ['NEIGH_QUEUEFULL', 'NEIGH_QUEUEFULL']);
    t.is(h.a.mib.arp.QueueDrops, 2);
    t.is(h.a.ipv4.arp_tbl.stats.unres_discards, 2);
    h.pump();
    const ipOut = seen.filter((f) => f.outgoing && f.bytes[12] === 0x08 && f.bytes[13] === 0x00);
    t.deepEqual(ipOut.map((f) => f.bytes[14 + 20 + 7]), [3, 4, 5], 'the newest three went out');
  } finally {
    rec.stop();
  }
});

test('static neighbours: no ARP at all', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const seen = capture(h.a);
  ping(h, h.b4, 1);
  h.pump();
  h.advance(60_000);
  ping(h, h.b4, 2);
  h.pump();
  t.is(arps(seen, true).length + arps(seen, false).length, 0);
  t.is(state(h, h.b4), 'PERMANENT');
  t.is(h.a.mib.icmp.InEchoReps, 2);
  t.is(h.a.mib.arp.OutRequests + h.b.mib.arp.OutRequests, 0);
});

test('REACHABLE ages to STALE; use starts DELAY, then PROBE with a unicast request, and the reply confirms', (t) => {
  const h = twoHosts();
  const seen = capture(h.a);
  ping(h, h.b4, 1);
  h.pump();
  t.is(state(h, h.b4), 'REACHABLE');
  const rt = h.a.ipv4.arp_tbl.parms.reachable_time;
  t.true(rt >= 15_000 && rt < 45_000, 'reachable_time in [base/2, 3base/2)');
  h.advance(rt + 1000);
  t.is(state(h, h.b4), 'STALE');
  ping(h, h.b4, 2);
  t.is(state(h, h.b4), 'DELAY', 'sent at once on the stale address');
  h.pump();
  t.is(h.a.mib.icmp.InEchoReps, 2);
  const requests = (): Uint8Array[] => arps(seen, true).filter((f) => f[21] === 1);
  const before = requests().length;
  h.advance(5000);
  const probes = requests().slice(before);
  t.is(probes.length, 1);
  t.deepEqual([...probes[0]!.subarray(0, 6)], [...MAC_B], 'the PROBE is unicast to the cached address');
  t.is(state(h, h.b4), 'REACHABLE', 'the reply confirmed it');
});

test('ARP requests for other hosts are not answered; replies nobody asked for create nothing', (t) => {
  const h = twoHosts();
  const seen = capture(h.b);
  const req = new Uint8Array(28);
  const v = new DataView(req.buffer);
  v.setUint16(0, 1); v.setUint16(2, 0x0800); req[4] = 6; req[5] = 4; v.setUint16(6, 1);
  req.set(MAC_A, 8); v.setUint32(14, h.a4); v.setUint32(24, inet_pton4('10.0.0.50'));
  inject(h.devb, ethFrame(new Uint8Array(6).fill(0xff), MAC_A, ETH_P_ARP, req));
  h.pump();
  t.is(arps(seen, true).length, 0);
  t.is(neigh_lookup4(h.b.ipv4.arp_tbl, h.a4, h.devb), undefined, 'not for us: nothing learnt');
  v.setUint16(6, 2);
  v.setUint32(24, h.b4);
  inject(h.devb, ethFrame(MAC_B, MAC_A, ETH_P_ARP, req));
  h.pump();
  t.is(neigh_lookup4(h.b.ipv4.arp_tbl, h.a4, h.devb), undefined, 'arp_accept 0: an unsolicited reply creates no entry');
  t.is(h.b.mib.arp.InReplies, 1);
});

test('malformed ARP is dropped and counted', (t) => {
  const h = twoHosts();
  const rec = recordDrops();
  try {
    const req = new Uint8Array(28);
    const v = new DataView(req.buffer);
    v.setUint16(0, 1); v.setUint16(2, 0x0800); req[4] = 6; req[5] = 4; v.setUint16(6, 1);
    req.set(MAC_A, 8); v.setUint32(14, h.a4); v.setUint32(24, h.b4);
    inject(h.devb, ethFrame(MAC_B, MAC_A, ETH_P_ARP, req.subarray(0, 20)));
    const badLen = req.slice();
    badLen[4] = 8;
    inject(h.devb, ethFrame(MAC_B, MAC_A, ETH_P_ARP, badLen));
    const badOp = req.slice();
    badOp[7] = 9;
    inject(h.devb, ethFrame(MAC_B, MAC_A, ETH_P_ARP, badOp));
    h.pump();
    t.deepEqual(rec.drops, ['PKT_TOO_SMALL', 'NOT_SPECIFIED', 'NOT_SPECIFIED']);
    t.is(h.b.mib.arp.InErrors, 3);
    t.is(h.b.mib.arp.OutReplies, 0);
  } finally {
    rec.stop();
  }
});

test('sk_dst_confirm keeps a busy entry REACHABLE: no probes while the upper layer confirms', (t) => {
  const h = twoHosts();
  const seen = capture(h.a);
  const sk = sk_alloc(h.a, AF_INET, SOCK_DGRAM, 253);
  sk.inet_saddr = h.a4;
  sk_daddr_set(sk, h.b4);
  const send = (): number => {
    const skb = alloc_skb(MAX_HEADER + 8);
    skb_reserve(skb, MAX_HEADER);
    skb_put(skb, 8);
    return ip_queue_xmit(sk, skb);
  };
  send();
  h.pump();
  const requests = (): number => arps(seen, true).filter((f) => f[21] === 1).length;
  t.is(requests(), 1);
  for (let i = 0; i < 12; i++) {
    h.advance(10_000);
    sk_dst_confirm(sk);
    t.is(send(), 0);
    t.is(state(h, h.b4), 'REACHABLE', `at ${(i + 1) * 10} s`);
  }
  t.is(requests(), 1, 'never probed again');
});

test('an IFF_NOARP device resolves nothing: frames go to its own address (arp_constructor\'s NUD_NOARP)', (t) => {
  const h = twoHosts();
  h.deva.flags |= IFF.IFF_NOARP;
  const seen = capture(h.a);
  t.is(ping(h, h.b4, 1), 0);
  t.is(arps(seen, true).length, 0);
  const out = seen.filter((f) => f.outgoing);
  t.is(out.length, 1);
  t.deepEqual([...out[0]!.bytes.subarray(0, 6)], [...MAC_A]);
  t.is(h.a.ipv4.arp_tbl.entries, 0);
  // And ARP that arrives on it is ignored.
  const req = new Uint8Array(28);
  const v = new DataView(req.buffer);
  v.setUint16(0, 1); v.setUint16(2, 0x0800); req[4] = 6; req[5] = 4; v.setUint16(6, 1);
  req.set(MAC_B, 8); v.setUint32(14, h.b4); v.setUint32(24, h.a4);
  inject(h.deva, ethFrame(new Uint8Array(6).fill(0xff), MAC_B, ETH_P_ARP, req));
  h.pump();
  t.is(h.a.mib.arp.InRequests, 0);
  t.is(h.a.mib.arp.OutReplies, 0);
});

test('arp_ignore 1 answers only for addresses of the receiving device; arp_announce 2 probes from the best address for the target', (t) => {
  const h = twoHosts();
  const seen = capture(h.b);
  // b also owns 192.168.9.1 on lo; a asks for it on the wire.
  inet_addr_add(h.b.loopback_dev!, inet_pton4('192.168.9.1'), 32);
  const ask = (tip: number): void => {
    const req = new Uint8Array(28);
    const v = new DataView(req.buffer);
    v.setUint16(0, 1); v.setUint16(2, 0x0800); req[4] = 6; req[5] = 4; v.setUint16(6, 1);
    req.set(MAC_A, 8); v.setUint32(14, h.a4); v.setUint32(24, tip);
    inject(h.devb, ethFrame(new Uint8Array(6).fill(0xff), MAC_A, ETH_P_ARP, req));
    h.pump();
  };
  ask(inet_pton4('192.168.9.1'));
  t.is(h.b.mib.arp.OutReplies, 1, 'arp_ignore 0: any local address');
  h.b.ipv4.sysctl_arp_ignore = 1;
  ask(inet_pton4('192.168.9.1'));
  t.is(h.b.mib.arp.OutReplies, 1, 'arp_ignore 1: not an address of veth0');
  ask(h.b4);
  t.is(h.b.mib.arp.OutReplies, 2);
  // arp_announce 2: a datagram from 192.168.9.1 to an unresolved 10.0.0.7 probes from 10.0.0.2.
  h.b.ipv4.sysctl_arp_announce = 2;
  const skb = alloc_skb(MAX_HEADER + 8);
  skb_reserve(skb, MAX_HEADER);
  skb_put(skb, 8);
  ip_build_and_send_pkt(skb, h.b, null, inet_pton4('192.168.9.1'), inet_pton4('10.0.0.7'), 253);
  const probe = arps(seen, true).filter((f) => f[21] === 1);
  t.is(probe.length, 1);
  t.is(u32(probe[0]!, 28), h.b4);
});
