// The terminal table, rendered from synthetic (made-up) runs; see synthetic.ts.
import test from 'ava';
import { buildCell } from '../../scenarios/report/median.ts';
import { PAPER_TABLE } from '../../scenarios/report/paper.ts';
import { ReportError } from '../../scenarios/report/errors.ts';
import { renderTextTable, shouldColor } from '../../scenarios/report/text-table.ts';
import { threadSummary } from '../../scenarios/report/cpu.ts';
import { shapeVerdict } from '../../scenarios/report/verdict.ts';
import type { ProgId } from '../../scenarios/report/types.ts';
import { syntheticCells, syntheticReport, syntheticRuns, syntheticUserCells } from './synthetic.ts';

const ESC = '\x1b[';

test('every cell\'s median, the RFC\'s numbers and both ratios appear', (t) => {
  const report = syntheticReport();
  const out = renderTextTable(report);
  for (const c of report.cells) t.true(out.includes(c.mpps.toFixed(2)), `cell ${c.case}/${c.prog}/${c.mode}`);
  for (const p of PAPER_TABLE) {
    t.true(out.includes(p.native.toFixed(2)));
    t.true(out.includes(p.offload.toFixed(2)));
    t.true(out.includes(`${(p.offload / p.native).toFixed(2)}x`), `RFC ratio ${p.case}/${p.prog}`);
    const ours = report.cells.filter((c) => c.case === p.case && c.prog === p.prog);
    const n = ours.find((c) => c.mode === 'native')!.mpps;
    const o = ours.find((c) => c.mode === 'offload')!.mpps;
    t.true(out.includes(`${(o / n).toFixed(2)}x`), `our ratio ${p.case}/${p.prog}`);
  }
});

test('the explain block names each cell with its counters, and the verdict line follows', (t) => {
  const out = renderTextTable(syntheticReport());
  for (const name of ['1 xdp1 native', '1 xdp1 offload', '1 xdp2 native', '1 xdp2 offload', '2 xdp1 native', '2 xdp1 offload', '2 xdp2 native', '2 xdp2 offload']) {
    t.true(out.includes(name), name);
  }
  for (const h of ['pkts/wake', 'wakes/s', 'tap batch', 'copies/pkt', 'guest irq/s']) t.true(out.includes(h), h);
  t.regex(out, /Shape holds: \[ok\] Case 1 .*; \[ok\] Case 2 /);
  t.true(out.includes('8/8 cells at or above'));
  t.true(out.includes('Why: packets per vhost wake-up'));
});

test('where the CPU went: busy and waiting shares per thread, apart from the counters, and who waited for a core', (t) => {
  const out = renderTextTable(syntheticReport());
  const at = out.indexOf('Where the CPU went');
  t.true(at > out.indexOf('What explains each cell'), 'its own table, after the counters');
  const section = out.slice(at);
  t.true(section.includes('the machine has 2'));
  for (const h of ['on a core', 'waiting for a core', 'host', 'vhost', 'guest', 'all']) t.true(section.includes(h), h);
  t.regex(section, /1 xdp1 native +│ +2\.61 │ +98% │ +55% │ +41% │ +196% │ +1% │ +0% │ +2% │ +37% │ +12% │ +25\.0 │/);
  for (const h of ['others', 'steal', 'CPU probe', 'main ms', 'host us', 'vhost us']) t.true(section.includes(h), h);
  t.regex(section, /1 xdp1 native +│ .* │ +37% │ +12% │ +25\.0 │ +170 │ +180 │ +175 │/);
  t.true(section.includes('Waited for a core: 1 xdp1 native (vhost 37%, guest 12%);'));
  t.true(section.includes('Shared the machine (these figures measure its load too): 2 xdp1 native (other processes 31%); 2 xdp1 offload (other processes 31%);'));
  const waited = section.split('\n').find((l) => l.startsWith('Waited for a core'))!;
  t.false(waited.includes('offload ('), 'no offload cell waited');
  // The counters table does not repeat them.
  t.false(out.slice(0, at).includes('196%'));
});

test('one run\'s CPU in a line (vxo run): busy share, its wait, the whole process last', (t) => {
  const e = syntheticCells()[0]!.explain;
  t.is(threadSummary(e), 'host 98% (waits 2%, probe 170 us), vhost 55% (waits 37%, probe 180 us), guest 41% (waits 12%, probe 175 us), all threads 196%, other processes 1%, steal 0%, CPU probe 25 ms');
  t.is(threadSummary({ tap_batch_avg: 3 }), undefined);
});

test('a report without CPU figures (no procfs, or an older JSON) has no CPU section', (t) => {
  const cells = syntheticCells().map((c) => {
    const strip = (e: typeof c.explain): typeof c.explain =>
      Object.fromEntries(Object.entries(e).filter(([k]) => !k.startsWith('cpu_') && !k.startsWith('runq_wait_') && !k.startsWith('probe_us_'))) as typeof c.explain;
    return { ...c, explain: strip(c.explain), runs: c.runs.map((r) => ({ ...r, explain: strip(r.explain) })) };
  });
  const out = renderTextTable(syntheticReport(cells));
  t.false(out.includes('Where the CPU went'));
  t.false(out.includes('Waited for a core'));
});

test('no escape codes unless colour is asked for', (t) => {
  t.false(renderTextTable(syntheticReport()).includes(ESC));
  t.true(renderTextTable(syntheticReport(), { color: true }).includes(ESC));
  t.false(shouldColor({ isTTY: false }, {}));
  t.true(shouldColor({ isTTY: true }, {}));
  t.false(shouldColor({ isTTY: true }, { NO_COLOR: '1' }));
});

test('ascii charset draws no box characters', (t) => {
  const out = renderTextTable(syntheticReport(), { charset: 'ascii' });
  t.false(/[─│┌┐└┘├┤┬┴┼]/.test(out));
  t.true(out.includes('+--'));
});

test('a broken shape is called broken', (t) => {
  // Case 1 offload made equal to native: the RFC's central claim fails.
  const cells = syntheticCells().map((c) =>
    c.case === 1 && c.mode === 'offload' ? buildCell(c, syntheticRuns(1, c.prog as ProgId, 'native')) : c,
  );
  const v = shapeVerdict(cells);
  t.is(v.status, 'broken');
  t.is(v.cases[0]?.status, 'broken');
  t.is(v.cases[1]?.status, 'holds');
  t.regex(renderTextTable(syntheticReport(cells)), /Shape BROKEN: \[NO\] Case 1/);
});

test('a partial table still renders, with n/a for the missing cells', (t) => {
  const cells = syntheticCells().filter((c) => c.case === 1);
  const out = renderTextTable(syntheticReport(cells));
  t.true(out.includes('n/a'));
  t.true(out.includes('2 through the bridge'));
  t.regex(out, /Shape incomplete/);
});

test('NaN counters print as n/a, not NaN', (t) => {
  const out = renderTextTable(syntheticReport()); // synthetic Case 2 has NaN ring-full drops
  t.false(out.includes('NaN'));
});

test('the same cell twice is a typed EINVAL error', (t) => {
  const cells = syntheticCells();
  const err = t.throws(() => renderTextTable(syntheticReport([...cells, cells[0]!])), { instanceOf: ReportError });
  t.is(err?.code, 'EINVAL');
});

test('a shared machine is said at the very top, before any figure', (t) => {
  const out = renderTextTable(syntheticReport()); // synthetic Case 2 shared the machine (other processes 31%)
  const first = out.split('\n')[0]!;
  t.is(first, 'SHARED MACHINE: other processes or steal time took at least 10% of a core in 4 of 8 cells (2 xdp1 native (other processes 31%); 2 xdp1 offload (other processes 31%); 2 xdp2 native (other processes 31%); 2 xdp2 offload (other processes 31%)); their figures measure that load as well as vxo.');
  t.regex(out.split('\n')[1]!, /^vxo 0\.1\.0: virtio-net XDP offload, ours vs the RFC/);
  t.true(renderTextTable(syntheticReport(), { color: true }).startsWith('\x1b[31mSHARED MACHINE'), 'in red on a terminal');
});

test('a quiet machine: no banner', (t) => {
  const r = syntheticReport();
  for (const c of r.cells) c.explain['cpu_other'] = 0.02;
  const out = renderTextTable(r);
  t.false(out.includes('SHARED MACHINE'));
  t.regex(out, /^vxo 0\.1\.0: /);
});

test('the user\'s program: its two rows, no RFC figures, said so, and no verdict on the RFC\'s shape', (t) => {
  const r = syntheticReport(syntheticUserCells());
  r.program = { object: 'my.o', section: null };
  const out = renderTextTable(r);
  t.regex(out, /virtio-net XDP offload, your program \(my\.o\), no RFC figure to compare with/);
  t.regex(out, /1 redirected into tap +│ my\.o +│ +2\.20 │ +9\.90 │ +4\.50x │ +n\/a │ +n\/a │ +n\/a │/);
  t.regex(out, /2 through the bridge +│ my\.o +│ +1\.00 │ +0\.97 │ +0\.97x │ +n\/a │/);
  t.false(out.includes('xdp1 (DROP)') || out.includes('xdp2 (TX)'), 'no row of the RFC\'s programs');
  t.true(out.includes('These cells ran your program (my.o) in place of xdp1 and xdp2: the RFC has no figure for it'));
  t.true(out.includes('Offload/native with your program: Case 1 4.50x, Case 2 0.97x. No verdict: the RFC has no figure for this program.'));
  t.false(out.includes('Shape '));
  t.false(out.includes('cells at or above'));
  r.program = { object: 'my.o', section: 'xdp_drop' };
  t.true(renderTextTable(r).includes('my.o, section xdp_drop'));
});
