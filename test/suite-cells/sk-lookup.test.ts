// The sk-lookup suite: every cell one short run (`npm run test:suites`): the floods through the four
// workers in each kernel (no hook, hook without program, the 200-entry LPM program), the lookup-cost
// rows, the dispatch cells; each balances, and the flood cells' counters agree with the column: the
// program runs on every lookup only where it is attached, the socket filter drops every datagram
// the UDP floods deliver, every frame is accounted for.
// The dispatch cells through the four workers (pktgen cycling the binding's destinations): every
// lookup was assigned to the binding's one socket, which read, holds or dropped each datagram
// (answered each SYN with a cookie SYN-ACK or dropped it), and no lookup missed. The one-thread
// dispatch cells: every destination reached the one socket, the miss probes missed by reason.
import test from 'ava';
import { skLookupSuite } from '../../scenarios/suite/sk-lookup.ts';
import type { SuiteOptions } from '../../scenarios/suite/types.ts';

const O: SuiteOptions = { duration: 0.05, warmup: 0, repeat: 1, engine: 'jit' };
const FLOODS = new Set(['tcp4', 'tcp6', 'udp4', 'udp6']);

for (const spec of skLookupSuite.cells()) {
  test.serial(`cell ${spec.id}: one short run, balanced, its counters agree with its column`, async (t) => {
    // The dispatch cells read the guest's counters as the window closes: a warm-up lets a guest
    // starved of CPU (the machine is shared) make its first poll before that.
    const r = await skLookupSuite.run(spec, spec.column === 'workers' ? { ...O, warmup: 0.2 } : O);
    const k = r.counters;
    t.true(r.balanced, `${JSON.stringify(r.notes ?? [])} ${JSON.stringify(k)}`);
    t.true(Number.isFinite(r.value) && r.value >= 0);
    if (spec.column === 'workers') {
      const udp = spec.row.includes('udp');
      t.true((k['covered'] ?? 0) > 0, 'frames reached the guest\'s lookups');
      t.is(k['dispatch_assigned'], k['covered'], 'every lookup assigned to the binding\'s socket');
      t.is(k['svc_lookups'], k['covered']);
      t.is(k['covered'], (k['reached'] ?? 0) + (k['queued'] ?? 0) + (k['socket_drops'] ?? 0));
      for (const m of ['dispatch_no_binding', 'dispatch_missing_socket', udp ? 'UdpNoPorts' : 'TcpOutRsts']) t.is(k[m], 0, m);
      t.is(k['total_generated'], (k['total_delivered'] ?? 0) + (k['total_dropped'] ?? 0) + (k['total_queued'] ?? 0));
      if (udp) t.is(k['total_received'], k['total_read'], 'the sink read everything eth0 delivered');
      else t.true((k['total_answered'] ?? 0) > 0 && k['TcpPassiveOpens'] === 0, 'SYNs answered with cookies; no handshake completes');
      t.is(r.explain['sockets_bind_needs'], spec.row.endsWith('/24') ? 256 : 65_535);
      const seen = k['destinations_seen'] ?? 0;
      t.true(seen > 0 && seen <= Math.min(spec.row.endsWith('/24') ? 256 : 65_535, k['tap_frames_in'] ?? 0), 'the tap saw the range\'s destinations come in');
      return;
    }
    if (spec.column === 'one-thread') {
      t.is(r.value, 1, 'every destination, sent once, reached the binding\'s one socket');
      t.is(k['reached'], k['covered']);
      t.deepEqual([k['dispatch_no_binding'], k['dispatch_missing_socket'], k['refused']], [16, 16, 32], 'the miss probes, by reason, each refused');
      return;
    }
    if (!FLOODS.has(spec.row)) return;
    t.true((k['total_received'] ?? 0) > 0, 'the flood reached the guest');
    t.is(k['total_generated'], (k['total_delivered'] ?? 0) + (k['total_dropped'] ?? 0) + (k['total_queued'] ?? 0));
    if (spec.row.startsWith('udp')) t.is(k['total_stack_drop_SOCKET_FILTER'], k['total_received'], 'the socket filter dropped what the stack received');
    if (spec.column === 'lpm200') {
      t.true((k['prog_runs'] ?? 0) > 0);
      t.is(k['prog_hits'], 0, 'no binding is on the flood\'s port');
      t.is(k['prog_runs'], (k['prog_hits'] ?? 0) + (k['prog_misses'] ?? 0));
    } else {
      t.is(k['prog_runs'] ?? 0, 0, 'no program attached');
    }
  });
}
