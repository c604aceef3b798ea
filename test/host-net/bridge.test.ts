// The learning bridge: learning, forwarding by destination, flooding unknown and group
// destinations (with clones), filtering, invalid sources; and Case 2, where the NIC's frames go
// through the bridge into the tap one tun_net_xmit (and one wake attempt) at a time.
import test from 'ava';
import { Bridge, eth_type_trans, HostNet, macHalves, type NetDevice } from '../../host/net/index.ts';
import { parseMac } from '../../host/net/pktgen.ts';
import { build_skb, FRAME, FramePool, META_STRIDE, NET_SKB_PAD, PACKET_TYPE, PagePool, MAX_TAP_BATCH, SKB_KIND, skbFields } from '../../tun/index.ts';
import { udp4Frame, udp64, BROADCAST_MAC } from '../support/packets.ts';
import { tapFixture } from '../tun/tap-fixture.ts';

const A = '02:00:00:00:00:0a', B = '02:00:00:00:00:0b', C = '02:00:00:00:00:0c';

/** Frame h holds `bytes` as the NIC passes them up: an skb with its MAC header pulled. */
function asSkb(fp: FramePool, h: number, bytes: Uint8Array): void {
  fp.write(h, bytes);
  build_skb(fp, h, FRAME.HEADROOM, bytes.length);
  eth_type_trans(fp, h, 1, macHalves(parseMac('02:00:00:00:00:01')));
}

function lab(ports = 3): { pool: PagePool; fp: FramePool; br: Bridge; got: number[][]; frame: (src: string, dst: string) => number } {
  const fp = FramePool.create({ frames: 64 });
  const pool = new PagePool(fp);
  const br = new Bridge(pool);
  const got: number[][] = [];
  for (let p = 0; p < ports; p++) {
    got.push([]);
    const dev: NetDevice = { name: `p${p}`, ndo_start_xmit: (h) => { got[p]!.push(h); } };
    br.addPort(dev);
  }
  const frame = (src: string, dst: string): number => {
    const h = pool.alloc();
    asSkb(fp, h, udp4Frame({ eth: { src, dst }, payload: new Uint8Array(18) }));
    return h;
  };
  return { pool, fp, br, got, frame };
}

test('unknown destination: flooded to every other port (clones), source learned', (t) => {
  const { br, got, frame, fp, pool } = lab();
  const h = frame(A, B);
  br.br_handle_frame(0, h);
  t.deepEqual(got.map((g) => g.length), [0, 1, 1]);
  t.is(got[2]![0], h, 'the original goes to the last port');
  t.not(got[1]![0], h);
  t.deepEqual(fp.read(got[1]![0]!), fp.read(h));
  t.is(br.flooded, 1);
  t.is(br.flood_copies, 1);
  t.is(br.lookup(A), 0);
  t.is(br.learned, 1);
  t.is(pool.accounting().inFlight, 2);
});

test('a learned destination is forwarded to its one port; back to the ingress port is filtered', (t) => {
  const { br, got, frame, pool } = lab();
  br.br_handle_frame(1, frame(B, A)); // learn B on port 1 (flooded)
  t.deepEqual(got.map((g) => g.length), [1, 0, 1]);
  br.br_handle_frame(0, frame(A, B)); // learn A on 0, forward to 1
  t.deepEqual(got.map((g) => g.length), [1, 1, 1]);
  t.is(br.forwarded, 1);
  br.br_handle_frame(1, frame(C, B)); // B lives on 1: filtered
  t.is(br.filtered, 1);
  t.deepEqual(got.map((g) => g.length), [1, 1, 1]);
  // B moves to port 2.
  br.br_handle_frame(2, frame(B, BROADCAST_MAC));
  t.is(br.lookup(B), 2);
  t.is(br.moved, 1);
  t.is(br.flooded, 2, 'broadcast floods');
  t.deepEqual(got.map((g) => g.length), [2, 2, 1]);
  t.is(br.fdb.size, 3);
  const inFlight = got.flat().length;
  t.is(pool.accounting().inFlight, inFlight, 'filtered frame freed');
});

test('a group source address is dropped before learning; a one-port bridge has nowhere to flood', (t) => {
  const { br, frame, pool } = lab();
  br.br_handle_frame(0, frame('03:00:00:00:00:01', B));
  t.is(br.drop_invalid_src, 1);
  t.is(br.fdb.size, 0);
  const one = lab(1);
  one.br.br_handle_frame(0, one.frame(A, B));
  t.is(one.br.drop_no_port, 1);
  t.is(one.pool.accounting().inFlight, 0);
  t.is(pool.accounting().inFlight, 0);
});

test('the FDB learns up to its limit, then refuses (and frames to the unknown source are flooded)', (t) => {
  const fp = FramePool.create({ frames: 64 });
  const pool = new PagePool(fp);
  const br = new Bridge(pool, 2);
  const got: number[][] = [[], [], []];
  for (let p = 0; p < 3; p++) br.addPort({ name: `p${p}`, ndo_start_xmit: (h) => { got[p]!.push(h); pool.free(h); } });
  const send = (port: number, src: string, dst: string): void => {
    const h = pool.alloc();
    asSkb(fp, h, udp4Frame({ eth: { src, dst } }));
    br.br_handle_frame(port, h);
  };
  send(0, A, C);
  send(1, B, C);
  send(2, C, A);
  t.is(br.fdb.size, 2);
  t.is(br.learn_refused, 1);
  t.is(br.lookup(C), undefined);
  t.is(br.lookup(A), 0);
  t.is(got[0]!.length, 2, 'C -> A forwarded to port 0 (plus the flood from B)');
  send(0, A, C);
  t.is(br.flooded, 3, 'C is still unknown: flooded');
  // Many MACs: every lookup finds what was learned, with a bigger table.
  const big = new Bridge(pool, 1000);
  big.addPort({ name: 'a', ndo_start_xmit: (h) => pool.free(h) });
  big.addPort({ name: 'b', ndo_start_xmit: (h) => pool.free(h) });
  for (let i = 0; i < 1000; i++) {
    const mac = `02:${(i >> 8).toString(16)}:00:00:${(i & 255).toString(16)}:01`;
    const h = pool.alloc();
    asSkb(fp, h, udp4Frame({ eth: { src: mac, dst: BROADCAST_MAC } }));
    big.br_handle_frame(i & 1, h);
  }
  t.is(big.fdb.size, 1000);
  t.is(big.lookup('02:3:00:00:e7:01'), 999 & 1);
  t.is(big.lookup('02:0:00:00:00:01'), 0);
});

test('Case 2: NIC PASS -> bridge -> tun_net_xmit, one packet and one wake attempt at a time', (t) => {
  const f = tapFixture({ frames: 512 });
  const host = new HostNet({ case: 'bridge', pool: f.pool, tap: f.xmit });
  t.is(host.poll(), 64);
  t.is(f.xmit.net_xmit_calls, 64);
  t.is(f.xmit.ring.publishes, 64, 'published per packet');
  t.is(f.wait.wakeups, 1);
  t.is(f.wait.wakeups_coalesced, 63, 'vhost never cleared the flag: the rest coalesce');
  t.is(host.bridge!.flooded, 64, 'the guest\'s MAC is unknown: flooded to the tap, the only other port');
  t.is(host.bridge!.flood_copies, 0);
  t.is(host.bridge!.lookup('02:00:00:00:00:01'), 0, 'pktgen\'s MAC learned on the NIC port');
  const out = new Uint32Array(MAX_TAP_BATCH);
  t.is(f.recv.tun_recvmsg(out), 64);
  t.deepEqual(f.recv.pool.read(out[5]!), udp64({ seq: 5 }));
  // What reached the tap is an skb: built by the NIC (no XDP program there: NET_SKB_PAD of
  // headroom), classified by eth_type_trans, moved to the tap by the bridge, its queue picked.
  const skb = skbFields(f.recv.pool, out[5]!);
  t.is(skb.KIND, SKB_KIND.SKB);
  t.is(f.recv.pool.meta[META_STRIDE * out[5]!], NET_SKB_PAD);
  t.is(skb.MAC_HEADER, NET_SKB_PAD);
  t.is(skb.NETWORK_HEADER, NET_SKB_PAD + 14);
  t.is(skb.PROTOCOL, 0x0800);
  t.is(skb.PKT_TYPE, PACKET_TYPE.PACKET_OTHERHOST, 'for the guest\'s MAC, not the NIC\'s');
  t.is(skb.SKB_IIF, host.nic.ifindex);
  t.is(skb.DEV, host.tapIfindex);
  t.is(skb.QUEUE_MAPPING, 0);
  // Once vhost clears the flag per round, each packet wakes it again (the RFC's Case 2 cost).
  for (let i = 0; i < 3; i++) {
    f.wait.clearQueued();
    host.nic.napi_poll(1);
  }
  t.is(f.wait.wakeups, 4);
  t.true(host.conservation().balanced);
});
