// HostNet as the host worker runs it: every generated frame accounted for after many polls, in
// both cases, with a ring that fills up and a pool that runs dry.
import test from 'ava';
import { HostNet } from '../../host/net/index.ts';
import { MAX_TAP_BATCH } from '../../tun/index.ts';
import { XDP_DIR } from '../support/vm.ts';
import { tapFixture } from '../tun/tap-fixture.ts';

test('Case 1: conservation after 100 polls with a slow consumer (full ring drops, pool exhaustion)', (t) => {
  const f = tapFixture({ frames: 1500, ring: 1024 });
  const host = new HostNet({ case: 'xdp-redirect', pool: f.pool, tap: f.xmit, nicProgram: HostNet.redirectProgram(`${XDP_DIR}redirect.o`) });
  const out = new Uint32Array(MAX_TAP_BATCH);
  let handled = 0;
  for (let i = 0; i < 100; i++) {
    handled += host.poll();
    // vhost takes one batch every third poll: slower than the wire.
    if (i % 3 === 0) {
      const n = f.recv.tun_recvmsg(out);
      for (let k = 0; k < n; k++) f.remote.free(out[k]!);
      f.remote.flush();
    }
  }
  const c = host.conservation();
  t.is(handled, 6400);
  t.is(c.generated, 6400);
  t.true(c.balanced, JSON.stringify(c));
  t.true(c.terms.tap_dropped! > 0, 'the ring filled up');
  t.is(c.terms.nic_xdp_aborted, 0);
  const s = host.stats();
  t.is(s.tap.tx_packets, c.terms.tap_enqueued!);
  t.is(s.pool.inFlight, f.xmit.queued(), 'frames in flight are exactly those in the ring');
  t.is(s.tap.xdp_xmit_frames, s.nic.xdp_redirect);
  t.is(f.recv.tx_packets + f.xmit.queued(), s.tap.tx_packets, 'what the tap queued was taken by vhost or is still queued');
});

test('Case 1: a pool smaller than the ring runs dry: rx_missed keeps the books balanced', (t) => {
  const f = tapFixture({ frames: 300, ring: 1024 });
  const host = new HostNet({ case: 'xdp-redirect', pool: f.pool, tap: f.xmit, nicProgram: HostNet.redirectProgram(`${XDP_DIR}redirect.o`) });
  for (let i = 0; i < 10; i++) host.poll();
  const c = host.conservation();
  t.is(c.terms.nic_rx_missed, 640 - 300);
  t.is(c.terms.tap_enqueued, 300);
  t.true(c.balanced);
});

test('Case 2: conservation through the bridge with tap drops', (t) => {
  const f = tapFixture({ frames: 2048, ring: 256 });
  const host = new HostNet({ case: 'bridge', pool: f.pool, tap: f.xmit, pktgen: { flows: 8 } });
  for (let i = 0; i < 20; i++) host.poll();
  const c = host.conservation();
  t.is(c.generated, 1280);
  t.is(c.terms.tap_enqueued, 256);
  t.is(c.terms.tap_dropped, 1024);
  t.true(c.balanced, JSON.stringify(c));
  t.is(host.stats().pool.inFlight, 256);
});

test('HostNet refuses Case 1 without the NIC program, and unknown cases', (t) => {
  const f = tapFixture();
  t.throws(() => new HostNet({ case: 'xdp-redirect', pool: f.pool, tap: f.xmit }), { code: 'EINVAL' });
  t.throws(() => new HostNet({ case: 'nope' as never, pool: f.pool, tap: f.xmit }), { code: 'EINVAL' });
  t.throws(() => HostNet.redirectProgram(`${XDP_DIR}xdp1.o`), { code: 'EINVAL' });
});
