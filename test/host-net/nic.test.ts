// The NIC's receive path: redirect.o through a DEVMAP to the tap arrives in bulks of 16 (and the
// remainder at the end of the poll), with one wake-up per bulk; failed redirects, drops, passes,
// and frames lost for lack of buffers are all counted. Every engine.
import test from 'ava';
import { ENGINES, loadObjectFile, XdpProgramRunner } from '../../bpf-vm/index.ts';
import { DEV_MAP_BULK_SIZE, HostNet, NetDevices, Nic, Pktgen, tapDevice } from '../../host/net/index.ts';
import { MAX_TAP_BATCH } from '../../tun/index.ts';
import { udp64 } from '../support/packets.ts';
import { u64At, XDP_DIR } from '../support/vm.ts';
import { tapFixture, type TapFixture } from '../tun/tap-fixture.ts';

const TAP = 3;

function nicWithTap(f: TapFixture, prog?: XdpProgramRunner, pktgen = new Pktgen()): Nic {
  const devices = new NetDevices();
  devices.register(TAP, tapDevice('tap0', f.xmit));
  const nic = new Nic({ ifindex: 2, pool: f.pool, wire: pktgen, devices, program: prog });
  devices.register(2, nic);
  return nic;
}

for (const engine of ENGINES) {
  test(`${engine}: redirect.o with tx_port[0] = the tap: frames reach the tap's ring in bulks of 16, one wake-up per poll`, (t) => {
    const f = tapFixture();
    const prog = HostNet.redirectProgram(`${XDP_DIR}redirect.o`, TAP, { engine });
    const nic = nicWithTap(f, prog);
    t.is(nic.napi_poll(64), 64);
    t.is(f.xmit.xdp_xmit_calls, 64 / DEV_MAP_BULK_SIZE);
    t.is(f.xmit.xdp_xmit_frames, 64);
    t.is(f.xmit.ring.publishes, 4, 'one publish per bulk');
    // Only the poll's last bulk carries XDP_XMIT_FLUSH (xdp_do_flush), so vhost is woken once.
    t.is(f.wait.wakeups + f.wait.wakeups_coalesced, 1, 'one wake attempt per poll');
    t.is(f.xmit.queued(), 64);
    t.is(nic.xdp_redirect, 64);
    t.is(u64At(prog.env.maps.find((m) => m.spec.name === 'redirect_cnt'), 0), 64n);
    // A poll that ends mid-bulk flushes the remainder (xdp_do_flush).
    t.is(nic.napi_poll(40), 40);
    t.is(f.xmit.xdp_xmit_calls, 4 + 3);
    t.is(f.xmit.xdp_xmit_frames, 104);
    t.is(f.wait.wakeups + f.wait.wakeups_coalesced, 2, 'and one for the second poll');
    t.is(nic.bulkQueued(), 0);
    // vhost sees pktgen's frames, in order.
    const out = new Uint32Array(MAX_TAP_BATCH);
    t.is(f.recv.tun_recvmsg(out), 64);
    t.deepEqual(f.recv.pool.read(out[0]!), udp64({ seq: 0 }));
    t.deepEqual(f.recv.pool.read(out[63]!), udp64({ seq: 63 }));
  });

  test(`${engine}: a DEVMAP entry naming no device is a redirect error; an empty entry aborts`, (t) => {
    const f = tapFixture();
    const nic = nicWithTap(f, HostNet.redirectProgram(`${XDP_DIR}redirect.o`, 42, { engine }));
    nic.napi_poll(10);
    t.is(nic.redirect_err, 10);
    t.is(nic.xdp_redirect, 0);
    const coll = loadObjectFile(`${XDP_DIR}redirect.o`);
    nic.attach(new XdpProgramRunner(coll.program(), { engine }));
    nic.napi_poll(5);
    t.is(nic.xdp_aborted, 5);
    t.is(f.xmit.tx_packets, 0);
    t.deepEqual(f.pool.accounting(), { total: 256, free: 256, recycling: 0, inFlight: 0 }, 'every frame freed');
  });

  test(`${engine}: xdp1 on the NIC drops; without a program frames pass to the local stack`, (t) => {
    const f = tapFixture();
    const coll = loadObjectFile(`${XDP_DIR}xdp1.o`);
    const nic = nicWithTap(f, new XdpProgramRunner(coll.program(), { engine }));
    nic.napi_poll(64);
    t.is(nic.xdp_drop, 64);
    t.is(u64At(coll.maps.get('rxcnt'), 17), 64n);
    nic.attach(undefined);
    const seen: number[] = [];
    nic.napi_poll(8);
    t.is(nic.stack_delivered, 8);
    nic.stack = (h) => { seen.push(h); f.pool.free(h); };
    nic.napi_poll(8);
    t.is(seen.length, 8);
    t.is(nic.rx_packets, 80);
    t.is(nic.rx_bytes, 80 * 60);
    t.is(f.pool.accounting().inFlight, 0);
  });
}

test('no buffer: frames are lost on the wire and counted, and pktgen still counts them sent', (t) => {
  const f = tapFixture({ frames: 20 });
  const nic = nicWithTap(f, HostNet.redirectProgram(`${XDP_DIR}redirect.o`, TAP));
  t.is(nic.napi_poll(64), 64);
  t.is(nic.rx_packets, 20);
  t.is(nic.rx_missed, 44);
  t.is(nic.wire.generated, 64);
  t.is(f.xmit.tx_packets, 20);
  // vhost gives the frames back: the next poll has buffers again.
  const out = new Uint32Array(MAX_TAP_BATCH);
  const n = f.recv.tun_recvmsg(out);
  for (let i = 0; i < n; i++) f.remote.free(out[i]!);
  f.remote.flush();
  t.is(nic.napi_poll(16), 16);
  t.is(nic.rx_missed, 44);
});

test('a paced pktgen gives the poll only what is due', (t) => {
  const f = tapFixture();
  let now = 0;
  const nic = nicWithTap(f, undefined, new Pktgen({ rate: 1000, clock: () => now }));
  t.is(nic.napi_poll(64), 1);
  t.is(nic.napi_poll(64), 0);
  now = 20;
  t.is(nic.napi_poll(64), 20);
});
