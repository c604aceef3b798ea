// `vxo run --json`'s document, from a made-up RunResult: the offload dump inside it (map entries
// as hex), when it is there, and the picked section.
import test from 'ava';
import type { OffloadShow } from '../../host/offload/show.ts';
import { runJson } from '../../scenarios/report/run-json.ts';
import type { RunExplain } from '../../scenarios/run/explain.ts';
import type { RunResult } from '../../scenarios/run/run-case.ts';

const show: OffloadShow = {
  program: { name: 'xdp1', tag: '0011223344556677', type: 'xdp', gplCompatible: true, license: 'GPL', insnCount: 20, xlatedBytes: 160, mapHandles: [1], queues: 'queue 0' },
  maps: [{
    handle: 1, name: 'rxcnt', type: 6, typeName: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 2, flags: 0, bytes: 64, orphan: false, usedByProgram: true,
    entries: [{ key: Uint8Array.of(0, 0, 0, 0), value: new Uint8Array(8) }, { key: Uint8Array.of(17, 0, 0, 0), value: Uint8Array.of(0x2a, 0, 0, 0, 0, 0, 0, 1) }],
  }],
  usage: { maps: 1, maxMaps: 64, bytes: 64, maxBytes: 1 << 20 },
};

function result(mode: 'native' | 'offload', extra: Partial<RunResult> = {}): RunResult {
  return {
    scenario: 'case1', prog: 'xdp1', mode, mpps: 1, metric: 'tap_xdp_drop', packets: 10, seconds: 1, counters: {}, window: {},
    accounting: { generated: 10, accounted: 10, balanced: true, dropped: {}, delivered: {}, queued: {} },
    explain: {} as RunExplain, offload: show, ...extra,
  };
}

test('offload mode: the host\'s view is under "offload", entries as hex, and survives JSON', (t) => {
  const j = JSON.parse(JSON.stringify(runJson(result('offload'))));
  t.is(j.offload.program.name, 'xdp1');
  t.deepEqual(j.offload.maps[0].entries, [{ key: '00000000', value: '0000000000000000' }, { key: '11000000', value: '2a00000000000001' }]);
  t.like(j.offload.maps[0], { name: 'rxcnt', typeName: 'percpu_array', usedByProgram: true });
  t.deepEqual(j.offload.usage, show.usage);
  t.false('section' in j);
});

test('native mode: no "offload" unless asked for (--show-offload); asked for, a device with no program says null', (t) => {
  t.false('offload' in runJson(result('native')));
  const j = runJson(result('native', { offload: { ...show, program: undefined, maps: [] } }), { offload: true });
  t.is(j.offload?.program, null);
  t.deepEqual(j.offload?.maps, []);
  t.false('offload' in runJson(result('offload'), { offload: false }), '--json without --show-offload');
});

test('the section picked with --section', (t) => {
  t.is(runJson(result('native', { prog: 'my.o', section: 'xdp_drop' })).section, 'xdp_drop');
});
