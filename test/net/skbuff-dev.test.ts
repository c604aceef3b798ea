// sk_buff (room, push/pull, clones sharing a buffer, the free lists, queues) and dev.c (receive
// dispatch by protocol, taps, the tc hook points, transmit with a stopped queue), with the drop
// reasons counted through the drop hook as the machine counts them.
import test from 'ava';
import {
  ETH_P_ALL, ETH_P_ARP, ETH_P_IP, MAX_HEADER, SKB_DROP_REASONS, SkBuffHead, __skb_dequeue, __skb_queue_after, __skb_queue_head,
  __skb_queue_tail, __skb_unlink, alloc_skb, consume_skb, drop_reason_name, kfree_skb_reason, set_skb_drop_hook, skb_clone, skb_cloned,
  skb_copy_expand, skb_pull, skb_push, skb_put, skb_reserve, skb_trim, type SkBuff,
} from '../../net/core/skbuff.ts';
import { NetDevice, NETDEV_TX_BUSY, NETDEV_TX_OK, netif_stop_queue, netif_wake_queue } from '../../net/core/netdevice.ts';
import {
  NET_RX_DROP, NET_RX_SUCCESS, NET_XMIT_DROP, NET_XMIT_SUCCESS, dev_add_pack, dev_get_by_index, dev_get_by_name, dev_queue_xmit,
  net_tx_action, netif_receive_skb, register_netdevice,
} from '../../net/core/dev.ts';
import { VethDevice, veth_pair, veth_poll } from '../../net/core/veth.ts';
import { eth_header, eth_type_trans } from '../../net/ethernet/eth.ts';
import { NetError } from '../../net/core/errors.ts';
import { TC_ACT_OK, TC_ACT_SHOT } from '../../net/sched/pkt-cls.ts';
import { BootState } from '../../net/core/boot-state.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';

function newNet(): Net {
  return new Net(new BootState({ clock: new VirtualClock(), seed: 1 }));
}

function countDrops(): { by: Map<string, number>; stop(): void } {
  const by = new Map<string, number>();
  set_skb_drop_hook((_skb, r) => by.set(drop_reason_name(r), (by.get(drop_reason_name(r)) ?? 0) + 1));
  return { by, stop: () => set_skb_drop_hook(null) };
}

const MAC_A = new Uint8Array([2, 0, 0, 0, 0, 1]);
const MAC_B = new Uint8Array([2, 0, 0, 0, 0, 2]);

test.serial('skb room: reserve, put, push and pull move data/tail/len as the kernel does; overruns are refused', (t) => {
  const skb = alloc_skb(256);
  skb_reserve(skb, MAX_HEADER);
  t.is(skb.data, MAX_HEADER);
  const at = skb_put(skb, 100);
  t.is(at, MAX_HEADER);
  t.is(skb.len, 100);
  t.is(skb_push(skb, 20), MAX_HEADER - 20);
  t.is(skb.len, 120);
  t.true(skb_pull(skb, 20));
  t.false(skb_pull(skb, 1000), 'a pull longer than the data moves nothing');
  t.is(skb.len, 100);
  skb_trim(skb, 60);
  t.is(skb.tail, skb.data + 60);
  t.is(t.throws(() => skb_push(skb, 4096), { instanceOf: NetError })?.code, 'ENOSPC');
  t.is(t.throws(() => skb_put(skb, 1 << 16), { instanceOf: NetError })?.code, 'ENOSPC');
  consume_skb(skb);
  t.is(t.throws(() => consume_skb(skb), { instanceOf: NetError })?.code, 'EINVAL', 'a double free is caught');
});

test.serial('a clone shares the buffer until both are freed; the buffer is then reused', (t) => {
  const skb = alloc_skb(100);
  skb.head[skb_put(skb, 4)] = 7;
  const c = skb_clone(skb);
  t.true(skb_cloned(skb));
  t.is(c.head, skb.head);
  t.is(c.head[c.data], 7);
  consume_skb(skb);
  t.is(c.head[c.data], 7, 'the clone still reads the data after the original is freed');
  const head = c.head;
  consume_skb(c);
  const again = alloc_skb(100);
  t.is(again.head, head, 'the freed buffer comes back from the free list');
  t.is(again.len, 0);
  consume_skb(again);
  const x = skb_copy_expand(alloc_skb(10), 64, 0);
  t.is(x.data, 64);
  consume_skb(x);
});

test.serial('sk_buff_head: tail/head/after insertion, unlink and dequeue keep qlen and bytes', (t) => {
  const q = new SkBuffHead();
  const mk = (n: number): SkBuff => {
    const s = alloc_skb(64);
    skb_put(s, n);
    return s;
  };
  const a = mk(1), b = mk(2), c = mk(3), d = mk(4);
  __skb_queue_tail(q, b);
  __skb_queue_head(q, a);
  __skb_queue_tail(q, d);
  __skb_queue_after(q, b, c);
  t.is(q.qlen, 4);
  t.is(q.bytes, 10);
  __skb_unlink(c, q);
  t.deepEqual([__skb_dequeue(q), __skb_dequeue(q), __skb_dequeue(q), __skb_dequeue(q)], [a, b, d, null]);
  t.is(q.qlen, 0);
  t.is(q.bytes, 0);
  for (const s of [a, b, c, d]) consume_skb(s);
});

function frame(dev: NetDevice, type: number, payload: number): SkBuff {
  const skb = alloc_skb(payload + MAX_HEADER);
  skb_reserve(skb, MAX_HEADER);
  skb_put(skb, payload);
  eth_header(skb, dev, type, MAC_B);
  skb.dev = dev;
  return skb;
}

test.serial('netif_receive_skb: taps see every frame, the handler of its protocol owns it, an unknown protocol is counted', (t) => {
  const drops = countDrops();
  try {
    const net = newNet();
    const dev = new NetDevice({ name: 'eth0', dev_addr: MAC_B, ops: { ndo_start_xmit: () => NETDEV_TX_OK } });
    register_netdevice(net, dev);
    t.is(dev.ifindex, 1);
    t.is(dev_get_by_index(net, 1), dev);
    t.is(dev_get_by_name(net, 'eth0'), dev);
    t.is(t.throws(() => register_netdevice(net, new NetDevice({ name: 'eth0', ops: dev.netdev_ops })), { instanceOf: NetError })?.code, 'EEXIST');
    const seen: string[] = [];
    dev_add_pack(net, { type: ETH_P_ALL, dev: null, func: (skb) => { seen.push(`tap ${skb.len}`); return 0; } });
    dev_add_pack(net, { type: ETH_P_IP, dev: null, func: (skb, d) => { seen.push(`ip ${skb.len} on ${d.name} iif ${skb.skb_iif}`); consume_skb(skb); return NET_RX_SUCCESS; } });
    const ip = frame(dev, ETH_P_IP, 40);
    ip.protocol = eth_type_trans(ip, dev);
    t.is(netif_receive_skb(ip), NET_RX_SUCCESS);
    const arp = frame(dev, ETH_P_ARP, 28);
    arp.protocol = eth_type_trans(arp, dev);
    t.is(netif_receive_skb(arp), NET_RX_DROP);
    t.deepEqual(seen, ['tap 40', 'ip 40 on eth0 iif 1', 'tap 28']);
    t.is(dev.stats.rx_nohandler, 1);
    t.is(drops.by.get('UNHANDLED_PROTO'), 1);
  } finally {
    drops.stop();
  }
});

test.serial('tc ingress and egress: OK goes on, SHOT drops and counts by its reason', (t) => {
  const drops = countDrops();
  try {
    const net = newNet();
    let sent = 0;
    const dev = new NetDevice({ name: 'eth0', dev_addr: MAC_A, ops: { ndo_start_xmit: (skb) => { sent++; consume_skb(skb); return NETDEV_TX_OK; } } });
    register_netdevice(net, dev);
    let delivered = 0;
    dev_add_pack(net, { type: ETH_P_IP, dev: null, func: (skb) => { delivered++; consume_skb(skb); return 0; } });
    let verdict: number = TC_ACT_OK;
    dev.tc_ingress.push({ run: () => verdict });
    dev.tc_egress.push({ run: () => verdict });
    const rx = (): number => { const s = frame(dev, ETH_P_IP, 20); s.protocol = eth_type_trans(s, dev); return netif_receive_skb(s); };
    t.is(rx(), NET_RX_SUCCESS);
    t.is(dev_queue_xmit(frame(dev, ETH_P_IP, 20)), NET_XMIT_SUCCESS);
    verdict = TC_ACT_SHOT;
    t.is(rx(), NET_RX_DROP);
    t.is(dev_queue_xmit(frame(dev, ETH_P_IP, 20)), NET_XMIT_DROP);
    t.deepEqual([delivered, sent], [1, 1]);
    t.is(drops.by.get('TC_INGRESS'), 1);
    t.is(drops.by.get('TC_EGRESS'), 1);
  } finally {
    drops.stop();
  }
});

test.serial('dev_queue_xmit: a stopped queue holds packets on the qdisc (up to txqueuelen) until net_tx_action after a wake; BUSY is a drop', (t) => {
  const drops = countDrops();
  try {
    const net = newNet();
    let busy = false;
    const sent: number[] = [];
    const dev = new NetDevice({
      name: 'eth0', dev_addr: MAC_A,
      ops: { ndo_start_xmit: (skb) => { if (busy) return NETDEV_TX_BUSY; sent.push(skb.len); consume_skb(skb); return NETDEV_TX_OK; } },
    });
    dev.tx_queue_len = 2;
    register_netdevice(net, dev);
    let woken = 0;
    dev.wake_callbacks.push(() => woken++);
    netif_stop_queue(dev);
    t.is(dev_queue_xmit(frame(dev, ETH_P_IP, 20)), NET_XMIT_SUCCESS);
    t.is(dev_queue_xmit(frame(dev, ETH_P_IP, 21)), NET_XMIT_SUCCESS);
    t.is(dev_queue_xmit(frame(dev, ETH_P_IP, 22)), NET_XMIT_DROP, 'the qdisc is full at txqueuelen');
    t.is(dev.qdisc.qlen, 2);
    netif_wake_queue(dev);
    t.is(woken, 1);
    t.deepEqual(sent, [], 'the wake only schedules: the driver is not re-entered from its completion path');
    t.is(net_tx_action(net), 2);
    t.deepEqual(sent, [34, 35], 'in order, after net_tx_action');
    t.is(dev_queue_xmit(frame(dev, ETH_P_IP, 20)), NET_XMIT_SUCCESS);
    busy = true;
    t.is(dev_queue_xmit(frame(dev, ETH_P_IP, 20)), NET_XMIT_DROP);
    t.deepEqual([dev.stats.tx_packets, dev.stats.tx_dropped, dev.qdisc_drops], [3, 2, 1]);
    t.is(drops.by.get('QDISC_DROP'), 1);
    t.is(drops.by.get('FULL_RING'), 1);
  } finally {
    drops.stop();
  }
});

test.serial('veth: a frame sent on one end is received on the other only when polled; a full queue drops', (t) => {
  const na = newNet(), nb = newNet();
  const a = new VethDevice('veth0', MAC_A, { queue_len: 2 });
  const b = new VethDevice('veth1', MAC_B, { queue_len: 2 });
  veth_pair(a, b);
  register_netdevice(na, a);
  register_netdevice(nb, b);
  const got: number[] = [];
  dev_add_pack(nb, { type: ETH_P_IP, dev: null, func: (skb) => { got.push(skb.len); kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_CONSUMED); return 0; } });
  for (const n of [10, 20, 30]) dev_queue_xmit(frame(a, ETH_P_IP, n));
  t.deepEqual(got, [], 'nothing arrives inside the sender\'s call');
  t.is(a.stats.tx_dropped, 1, 'the third frame found the peer queue full');
  t.is(veth_poll(b), 2);
  t.deepEqual(got, [10, 20]);
  t.is(b.stats.rx_packets, 2);
});
