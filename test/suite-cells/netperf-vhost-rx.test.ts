// A host before the offload RFC (vhost reading the tap's ptr_ring, no TUNSETOFFLOADEDXDP): the
// guest's offload request is refused by QEMU, the guest runs the program in its driver, and the
// run goes on, balanced, through the four workers.
import test from 'ava';
import { runNetperf } from '../../scenarios/run/run-netperf.ts';

const XDP1 = new URL('../../scenarios/xdp/xdp1.o', import.meta.url).pathname;

test.serial('ptr_ring: QEMU refuses the xdp offload, the guest runs it natively, the run goes on balanced', async (t) => {
  const r = await runNetperf({ test: 'UDP_RR', duration: 0.3, warmup: 0.1, vhostRx: 'ptr_ring', bpf: { guestXdp: { object: XDP1, mode: 'offload', fallbackNative: true } } });
  t.is(r.vhost_rx, 'ptr_ring');
  t.true(r.accounting.balanced);
  t.is(r.bpf?.guest_xdp?.mode, 'native');
  t.regex(r.bpf?.guest_xdp?.offload_refused ?? '', /EOPNOTSUPP.*TUNSETOFFLOADEDXDP/);
  t.is(r.counters['qemu_tun_set_offload_refused'], 1);
  t.is(r.counters['tap_xdp_drop'] ?? 0, 0, 'nothing ran on the tap');
});
