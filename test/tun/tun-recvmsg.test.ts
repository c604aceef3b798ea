// tun_recvmsg with the offloaded program, on every engine: xdp1 drops and counts per protocol,
// xdp2 bounces UDP into the Rx path where rx_drop drops it, PASS hands frames to vhost (with the
// head and tail the program left), REDIRECT and unknown actions are dropped and counted.
import test from 'ava';
import { ENGINES, loadObjectFile, XdpProgramRunner, type EngineName } from '../../bpf-vm/index.ts';
import { build_skb, MAX_TAP_BATCH, META_STRIDE, NET_SKB_PAD, SKB_KIND, skbFields, TunError, XDP_XMIT } from '../../tun/index.ts';
import { icmp4EchoFrame, tcp6Frame, udp4Frame, udp64 } from '../support/packets.ts';
import { asmXdp, u32Key, u64At, XDP_DIR } from '../support/vm.ts';
import { frameOf, tapFixture, type TapFixture } from './tap-fixture.ts';

const runner = (obj: string, engine: EngineName) => {
  const coll = loadObjectFile(`${XDP_DIR}${obj}.o`);
  return { coll, prog: new XdpProgramRunner(coll.program(), { engine }) };
};

/** Queues `frames` through tun_xdp_xmit in bulks of 16. */
function send(f: TapFixture, frames: Uint8Array[]): number[] {
  const hs = frames.map((b) => frameOf(f, b));
  const bulk = new Uint32Array(16);
  for (let i = 0; i < hs.length; i += 16) {
    const n = Math.min(16, hs.length - i);
    bulk.set(hs.slice(i, i + n));
    f.xmit.tun_xdp_xmit(bulk, n, XDP_XMIT.XDP_XMIT_FLUSH);
  }
  return hs;
}

/** Queues `frames` as skbs through tun_net_xmit, each built as a NIC without XDP builds it (NET_SKB_PAD of headroom). */
function sendSkbs(f: TapFixture, frames: Uint8Array[]): number[] {
  return frames.map((b) => {
    const h = f.pool.alloc();
    f.fp.u8.set(b, h * f.fp.frameSize + NET_SKB_PAD);
    build_skb(f.fp, h, NET_SKB_PAD, b.length);
    f.xmit.tun_net_xmit(h);
    return h;
  });
}

test('without a program every frame is PASS, in order, at most 64 per call', (t) => {
  const f = tapFixture();
  const hs = send(f, Array.from({ length: 100 }, (_, i) => udp64({ seq: i })));
  const out = new Uint32Array(MAX_TAP_BATCH);
  t.is(f.recv.tun_recvmsg(out), 64);
  t.deepEqual([...out], hs.slice(0, 64));
  t.is(f.recv.tun_recvmsg(out), 36);
  t.deepEqual([...out.subarray(0, 36)], hs.slice(64));
  t.is(f.recv.tun_recvmsg(out), 0);
  t.is(f.recv.tx_packets, 100);
  t.is(f.recv.tx_bytes, 6000);
  t.is(f.recv.batches, 2);
  t.deepEqual(f.recv.stats().batch_hist, [0, 0, 0, 0, 0, 1, 1]);
  t.is(f.pool.accounting().inFlight, 100, 'PASS frames belong to vhost until it frees them');
  for (const h of hs) f.remote.free(h);
  f.remote.flush();
  f.pool.refill();
  t.is(f.pool.accounting().inFlight, 0);
  t.throws(() => f.recv.tun_recvmsg(new Uint32Array(8)), { instanceOf: TunError });
});

for (const engine of ENGINES) {
  test(`${engine}: xdp1 offloaded drops every frame and counts rxcnt per protocol; the frames go back to the pool`, (t) => {
    const f = tapFixture();
    const { coll, prog } = runner('xdp1', engine);
    f.recv.attachOffloaded(prog);
    const frames = [...Array.from({ length: 70 }, () => udp64()), ...Array.from({ length: 5 }, () => icmp4EchoFrame()), tcp6Frame(), tcp6Frame()];
    send(f, frames);
    const out = new Uint32Array(MAX_TAP_BATCH);
    let passed = 0;
    for (let n = 1; n > 0 || f.recv.hasData();) passed += n = f.recv.tun_recvmsg(out);
    t.is(passed, 0);
    t.is(f.recv.xdp_drop, 77);
    t.is(f.recv.tx_dropped, 77);
    t.is(f.recv.tx_packets, 0);
    const rxcnt = coll.maps.get('rxcnt');
    t.is(u64At(rxcnt, 17), 70n);
    t.is(u64At(rxcnt, 1), 5n);
    t.is(u64At(rxcnt, 6), 2n);
    t.is(f.remote.pending, 0, 'flushed by recvmsg');
    f.pool.refill();
    t.deepEqual(f.pool.accounting(), { total: 256, free: 256, recycling: 0, inFlight: 0 });
  });

  test(`${engine}: xdp2 offloaded bounces UDP into the tap's Rx path, where rx_drop drops it`, (t) => {
    const f = tapFixture();
    const xdp2 = runner('xdp2', engine);
    const rxDrop = runner('rx_drop', engine);
    f.recv.attachOffloaded(xdp2.prog);
    f.rx.attach(rxDrop.prog);
    send(f, [udp64(), udp64(), icmp4EchoFrame(), udp64()]);
    const out = new Uint32Array(MAX_TAP_BATCH);
    t.is(f.recv.tun_recvmsg(out), 0);
    t.is(f.recv.xdp_tx, 3);
    t.is(f.recv.xdp_drop, 1);
    t.is(f.rx.from_xdp_tx, 3);
    t.is(f.rx.xdp_drop, 3);
    t.is(f.rx.rx_dropped, 3);
    t.is(f.rx.rx_packets, 0);
    t.is(u64At(rxDrop.coll.maps.get('drop_cnt'), 0), 3n);
    t.is(u64At(xdp2.coll.maps.get('rxcnt'), 17), 3n);
    f.pool.refill();
    t.is(f.pool.accounting().inFlight, 0, 'bounced frames were freed by the Rx path');
  });

  test(`${engine}: without an Rx program the bounced frame reaches the host stack with its MACs swapped`, (t) => {
    const f = tapFixture();
    f.recv.attachOffloaded(runner('xdp2', engine).prog);
    const seen: Uint8Array[] = [];
    f.rx.netif_rx = (u8, off, len) => { seen.push(u8.slice(off, off + len)); };
    const frame = udp4Frame({ eth: { src: '02:00:00:00:00:aa', dst: '02:00:00:00:00:bb' }, payload: new Uint8Array(20) });
    send(f, [frame]);
    t.is(f.recv.tun_recvmsg(new Uint32Array(64)), 0);
    const expected = frame.slice();
    expected.set(frame.subarray(6, 12), 0);
    expected.set(frame.subarray(0, 6), 6);
    t.deepEqual(seen, [expected]);
    t.is(f.rx.rx_packets, 1);
    t.is(f.rx.rx_bytes, frame.length);
  });

  test(`${engine}: REDIRECT is not supported in the Tx path (dropped, counted); a failed redirect_map aborts`, (t) => {
    const f = tapFixture();
    const { coll, prog } = runner('redirect', engine);
    f.recv.attachOffloaded(prog);
    send(f, [udp64(), udp64()]);
    t.is(f.recv.tun_recvmsg(new Uint32Array(64)), 0);
    t.is(f.recv.xdp_aborted, 2, 'tx_port[0] empty: bpf_redirect_map returns XDP_ABORTED');
    coll.maps.get('tx_port')!.update(u32Key(0), u32Key(7));
    send(f, [udp64(), udp64(), udp64()]);
    t.is(f.recv.tun_recvmsg(new Uint32Array(64)), 0);
    t.is(f.recv.xdp_redirect, 3);
    t.is(f.recv.tx_dropped, 5);
    f.pool.refill();
    t.is(f.pool.accounting().inFlight, 0);
  });

  test(`${engine}: PASS keeps the program's new head; an unknown action counts as aborted`, (t) => {
    const f = tapFixture();
    // bpf_xdp_adjust_head(ctx, 14): strip the Ethernet header, then pass.
    f.recv.attachOffloaded(new XdpProgramRunner(asmXdp('mov %r2, 14\ncall 44\nmov %r0, 2\nexit'), { engine }));
    const frame = udp64();
    const [h] = send(f, [frame]);
    const out = new Uint32Array(64);
    t.is(f.recv.tun_recvmsg(out), 1);
    t.is(out[0], h);
    t.deepEqual(f.recv.pool.read(h!), frame.subarray(14));
    t.is(f.recv.tx_bytes, 46);
    f.recv.attachOffloaded(new XdpProgramRunner(asmXdp('mov %r0, 9\nexit'), { engine }));
    send(f, [udp64()]);
    t.is(f.recv.tun_recvmsg(out), 0);
    t.is(f.recv.xdp_aborted, 1);
    t.is(f.recv.xdp_unknown, 1);
    f.recv.attachOffloaded(undefined);
    send(f, [udp64()]);
    t.is(f.recv.tun_recvmsg(out), 1, 'detached: PASS again');
  });

  test(`${engine}: skbs run the generic way: the head is expanded to XDP_PACKET_HEADROOM (one copy) before the program, frames are not`, (t) => {
    const f = tapFixture();
    // bpf_xdp_adjust_head(ctx, -200): only possible with more headroom than NET_SKB_PAD; then pass.
    f.recv.attachOffloaded(new XdpProgramRunner(asmXdp('mov %r2, -200\ncall 44\nmov %r0, 2\nexit'), { engine }));
    const frame = udp64();
    const [s] = sendSkbs(f, [frame]);
    t.is(skbFields(f.fp, s!).KIND, SKB_KIND.SKB);
    const out = new Uint32Array(MAX_TAP_BATCH);
    t.is(f.recv.tun_recvmsg(out), 1);
    t.is(f.recv.xdp_generic, 1);
    t.is(f.recv.xdp_generic_expand, 1);
    t.is(f.recv.xdp_generic_copied_bytes, 60);
    t.is(f.fp.meta[META_STRIDE * s!], 256 - 200, 'the program moved the head 200 bytes into the expanded headroom');
    t.deepEqual(f.fp.read(s!).subarray(200), frame, 'the data survived the move');
    // An xdp_frame already has the headroom: no expansion; tun_xdp_xmit marks it as a frame.
    const [x] = send(f, [frame]);
    t.is(skbFields(f.fp, x!).KIND, SKB_KIND.XDP_FRAME);
    t.is(f.recv.tun_recvmsg(out), 1);
    t.is(f.recv.xdp_generic, 1);
    t.is(f.recv.xdp_generic_expand, 1);
    // xdp1 drops skbs as it drops frames, and counts them alike.
    const { coll, prog } = runner('xdp1', engine);
    f.recv.attachOffloaded(prog);
    sendSkbs(f, Array.from({ length: 10 }, () => udp64()));
    t.is(f.recv.tun_recvmsg(out), 0);
    t.is(f.recv.xdp_drop, 10);
    t.is(f.recv.xdp_generic_expand, 11);
    t.is(u64At(coll.maps.get('rxcnt'), 17), 10n);
  });

  test(`${engine}: guest packets through the Rx path: copied to the scratch frame, rx_drop drops them`, (t) => {
    const f = tapFixture();
    const rxDrop = runner('rx_drop', engine);
    const frame = udp64();
    const put = (): void => { f.fp.u8.set(frame, f.rx.scratchData); };
    put();
    t.is(f.rx.tun_get_user(frame.length), 2, 'no program: PASS to the host stack');
    t.is(f.rx.rx_packets, 1);
    f.rx.attach(rxDrop.prog);
    for (let i = 0; i < 5; i++) { put(); t.is(f.rx.tun_get_user(frame.length), 1); }
    t.is(f.rx.from_guest, 6);
    t.is(f.rx.xdp_drop, 5);
    t.is(u64At(rxDrop.coll.maps.get('drop_cnt'), 0), 5n);
    t.throws(() => f.rx.tun_get_user(f.fp.maxData + 1), { instanceOf: TunError });
    t.deepEqual(f.pool.accounting().inFlight, 0, 'the scratch frame is not one of the pool\'s');
  });
}
