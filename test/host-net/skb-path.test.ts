// The host stack's skb path (Case 2): the NIC leaves NET_SKB_PAD of headroom without an XDP
// program and XDP_PACKET_HEADROOM with one; eth_type_trans classifies by destination and takes the
// protocol; the bridge drops what its egress port's MTU cannot carry.
import test from 'ava';
import { Bridge, eth_type_trans, macHalves, type NetDevice } from '../../host/net/index.ts';
import { parseMac } from '../../host/net/pktgen.ts';
import { build_skb, FRAME, FramePool, META_STRIDE, PACKET_TYPE, PagePool, skbFields } from '../../tun/index.ts';
import { BROADCAST_MAC, ethernet, udp4Frame } from '../support/packets.ts';

const ME = '02:00:00:00:01:01';

function skbOf(fp: FramePool, pool: PagePool, bytes: Uint8Array): number {
  const h = pool.alloc();
  fp.write(h, bytes);
  build_skb(fp, h, FRAME.HEADROOM, bytes.length);
  eth_type_trans(fp, h, 2, macHalves(parseMac(ME)));
  return h;
}

test('eth_type_trans: packet type by destination, protocol by EtherType (or 802.3 length), MAC header pulled', (t) => {
  const fp = FramePool.create({ frames: 16 });
  const pool = new PagePool(fp);
  const of = (dst: string, etherType = 0x0800, payload = new Uint8Array(46)) => skbFields(fp, skbOf(fp, pool, ethernet(etherType, payload, { dst })));
  t.is(of(ME).PKT_TYPE, PACKET_TYPE.PACKET_HOST);
  t.is(of(BROADCAST_MAC).PKT_TYPE, PACKET_TYPE.PACKET_BROADCAST);
  t.is(of('01:00:5e:00:00:01').PKT_TYPE, PACKET_TYPE.PACKET_MULTICAST);
  t.is(of('02:00:00:00:00:99').PKT_TYPE, PACKET_TYPE.PACKET_OTHERHOST);
  t.is(of(ME, 0x86dd).PROTOCOL, 0x86dd);
  t.is(of(ME, 46, new Uint8Array(46)).PROTOCOL, 0x0004, 'a length field: 802.2 LLC');
  t.is(of(ME, 46, new Uint8Array(46).fill(0xff)).PROTOCOL, 0x0001, 'raw 802.3 (payload starts 0xFFFF)');
  const s = of(ME);
  t.is(s.MAC_HEADER, FRAME.HEADROOM);
  t.is(s.NETWORK_HEADER, FRAME.HEADROOM + 14);
  t.is(s.DATA, FRAME.HEADROOM + 14);
  t.is(s.LEN, 60 - 14);
  t.is(s.DEV, 2);
});

test('the bridge pushes the MAC header back and drops an skb longer than the egress MTU (is_skb_forwardable)', (t) => {
  const fp = FramePool.create({ frames: 16 });
  const pool = new PagePool(fp);
  const br = new Bridge(pool);
  const got: number[] = [];
  br.addPort({ name: 'in', ifindex: 2, ndo_start_xmit: (h) => pool.free(h) });
  const small: NetDevice = { name: 'small', ifindex: 9, mtu: 100, ndo_start_xmit: (h) => { got.push(h); } };
  br.addPort(small);
  const fits = skbOf(fp, pool, udp4Frame({ payload: new Uint8Array(100 - 28) }));
  br.br_handle_frame(0, fits);
  t.deepEqual(got, [fits]);
  t.is(fp.meta[META_STRIDE * fits], FRAME.HEADROOM, 'data back at the MAC header');
  t.is(fp.meta[META_STRIDE * fits + 1], 114);
  t.is(skbFields(fp, fits).DEV, 9, 'skb->dev is the egress port');
  br.br_handle_frame(0, skbOf(fp, pool, udp4Frame({ payload: new Uint8Array(100 - 27) })));
  t.is(got.length, 1);
  t.is(br.drop_too_big, 1);
  t.is(br.dropped, 1);
  t.is(pool.accounting().inFlight, 1, 'the dropped skb went back to the pool');
  const bad = t.throws(() => br.addPort({ name: 'odd', mtu: 10, ndo_start_xmit: (h) => pool.free(h) }));
  t.is((bad as { code?: string }).code, 'EINVAL');
});
