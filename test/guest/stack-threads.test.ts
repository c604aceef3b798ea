// The machines' stacks over the real threads: the QEMU, vhost, host and guest workers wired as a
// scenario wires them, plus the host backlog and a Net on each side (test/workers/stack-app.ts).
// The guest's application sends frames on eth0 (virtio_net tx vq -> vhost handle_tx -> the tap's
// Rx path -> the backlog -> the host worker's bridge -> br0 -> the host Net), the host's echoes
// each back through br0 (bridge -> tun_net_xmit -> vhost handle_rx -> rx vq -> the guest Net).
// Both sides check every byte; every frame is accounted for at the end.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ShmCounters } from '../../virtio/index.ts';
import { GUEST_STAT_NAMES } from '../../guest/virtio-net/index.ts';
import { BR0_DEFAULT_MAC, parseMac } from '../../host/net/index.ts';
import { WorkerSet } from '../../scenarios/run/worker-set.ts';
import {
  closeMachineWorkers, createMachineShm, releaseMachineWorkers, startMachineWorkers, stopMachineWorkersInOrder,
} from '../../scenarios/run/machine-workers.ts';
const APP = new URL('../workers/stack-app.ts', import.meta.url).href;
const COUNT = 3000;
const APP_NAMES = ['app_sent', 'app_send_dropped', 'app_rx_ok', 'app_rx_bad', 'app_echoed'];

test('guest eth0 <-> host br0 over the four workers: every frame arrives byte-exact or is counted where it was dropped', async (t) => {
  const shm = createMachineShm({ backlog: true });
  const set = new WorkerSet();
  const live = new Map<string, ShmCounters>();
  try {
    await startMachineWorkers(set, shm, {
      host: { case: 'bridge', wire: false, net: { seed: 2, setup: APP, setupData: { role: 'echo' } } },
      guest: { net: { seed: 1, setup: APP, setupData: { role: 'sender', count: COUNT, peerMac: [...parseMac(BR0_DEFAULT_MAC)] } } },
      guestCounterNames: [...GUEST_STAT_NAMES, ...APP_NAMES, 'stack_tx_dropped'],
    }, live);
    const guestCounters = live.get('guest')!;
    releaseMachineWorkers(shm);

    // Until the guest has sent everything and nothing has moved for a while (or 20 s).
    const deadline = performance.now() + 20_000;
    let last = '', stableSince = performance.now();
    while (performance.now() < deadline) {
      await Promise.race([sleep(50), set.failed]);
      const g = guestCounters.snapshot();
      const now = `${g['app_sent']}/${g['app_rx_ok']}/${live.get('host')?.get('host_app_rx_ok')}`;
      if (now !== last) { last = now; stableSince = performance.now(); }
      if (g['app_rx_ok'] === COUNT) break;
      if ((g['app_sent'] ?? 0) + (g['app_send_dropped'] ?? 0) >= COUNT && performance.now() - stableSince > 500) break;
    }

    const done = await stopMachineWorkersInOrder(set, shm);
    const hostDone = done.host, vhostDone = done.vhost, guestDone = done.guest;

    const h = hostDone['counters'] as Record<string, number>;
    const v = vhostDone['counters'] as Record<string, number>;
    const g = guestDone['counters'] as Record<string, number>;
    const cons = hostDone['conservation'] as { balanced: boolean; terms: Record<string, number> };
    const vq = vhostDone['queued'] as Record<string, number>;
    t.log(`guest sent ${g['app_sent']}, host got ${h['host_app_rx_ok']}, guest got back ${g['app_rx_ok']}; ` +
      `backlog dropped ${v['backlog_dropped']}, tap ring dropped ${h['tapx_tx_dropped']}, guest queue stops ${g['tx_queue_stops']}`);
    t.is(g['app_rx_bad'], 0, 'no echo differs from what was sent');
    t.is(h['host_app_rx_bad'], 0, 'no frame differs at the host');
    t.is((g['app_sent'] ?? 0) + (g['app_send_dropped'] ?? 0), COUNT);
    const gq = guestDone['queued'] as Record<string, number>;
    // Guest -> host: what the guest queued, vhost took or left on the ring; what vhost took went
    // into the backlog or was dropped there; the backlog's frames reached the host's handler, were
    // dropped by the host for want of a frame, or were still queued when the host stopped.
    t.is((v['vhost_tx_packets'] ?? 0) + (gq['tx_not_consumed'] ?? 0), g['app_sent'] ?? -1, 'vhost took every frame the guest queued, or left it on the ring');
    t.is(v['vhost_tx_bad_hdr'], 0);
    t.is((v['backlog_enqueued'] ?? 0) + (v['backlog_dropped'] ?? 0), v['vhost_tx_packets'] ?? -1);
    t.is((h['host_app_rx_ok'] ?? 0) + (h['tap_rx_no_buffer'] ?? 0) + (vq['host_backlog'] ?? 0), v['backlog_enqueued'] ?? -1);
    // Host -> guest: every echo reached the guest's stack or was dropped and counted on the way.
    t.is(h['host_app_echoed'], h['br0_tx_packets']);
    t.is(h['host_app_echoed'], (g['app_rx_ok'] ?? 0) + (h['tapx_tx_dropped'] ?? 0) + (v['vhost_rx_too_big'] ?? 0) + (vq['tap_ring'] ?? 0) + (vq['vhost_rx_held'] ?? 0) + (gq['rx_used_pending'] ?? 0));
    t.true(cons.balanced, JSON.stringify(cons));
    t.true((g['app_rx_ok'] ?? 0) > COUNT / 2, 'most frames made the round trip');
  } finally {
    await closeMachineWorkers(set, shm);
  }
});
