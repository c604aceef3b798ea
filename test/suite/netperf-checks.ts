// The checks every netperf suite run passes (test/suite/netperf.test.ts runs one cell,
// test/suite-cells/netperf.test.ts every cell): the ledger balances, the asked handle_rx path ran,
// the tap's and vhost's counters agree the way that path counts, the figure is netperf's.
import type { ExecutionContext } from 'ava';
import type { SuiteCellSpec, SuiteRun } from '../../scenarios/suite/types.ts';
import { VHOST_RX_PATH_CODE } from '../../vhost/rx-path.ts';

export function checkNetperfRun(t: ExecutionContext, spec: SuiteCellSpec, r: SuiteRun): void {
  const c = r.counters;
  t.true(r.balanced, JSON.stringify(c));
  t.is(c['ledger_generated'], c['ledger_accounted']);
  t.true(c['ledger_generated']! > 0);
  const before = spec.column === 'before';
  t.is(c['vhost_rx_path'], before ? VHOST_RX_PATH_CODE.ptr_ring : VHOST_RX_PATH_CODE.tap_recvmsg);
  t.true(c['vhost_rx_packets']! > 0, 'frames crossed handle_rx in the window');
  if (before) {
    // Counted frame by frame inside handle_rx, published between its calls: equal exactly.
    t.is(c['tap_tx_packets'], c['vhost_rx_packets'], 'what the tap put to user is what vhost delivered');
    t.is(c['tap_read_ptr'], c['vhost_rx_packets'], 'one tun_do_read per frame, the pointer handed back');
    t.is(c['vhost_rx_recvmsg'], c['vhost_rx_packets']);
    t.is(c['tap_consumed'], 0, 'vhost read the ring, not the tap\'s batch recvmsg');
  } else {
    t.is(c['tap_read_ptr'], 0);
    // The tap counts a batch as recvmsg returns it, vhost each frame as it copies it: at a window's edge a batch may be half copied.
    t.true(Math.abs(c['tap_consumed']! - c['vhost_rx_packets']!) <= 64, JSON.stringify(c));
    t.true(c['vhost_rx_recvmsg']! <= c['vhost_rx_packets']!, 'one recvmsg per batch');
  }
  if (spec.unit === 'trans/s') t.is(r.value, c['netperf_transactions']! / r.seconds, 'transactions per second');
  else t.is(r.value, (c['netserver_bytes_received']! * 8) / r.seconds / 1e6, 'Mbit/s on netserver\'s receive side');
  t.true(Number.isFinite(r.explain['recvmsg_per_frame']));
}
