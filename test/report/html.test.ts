// The HTML report, from synthetic (made-up) runs; see synthetic.ts. Rendering vega takes a
// moment, so the full report is built once and shared.
import test from 'ava';
import { toHtml } from '../../scenarios/report/html.ts';
import { syntheticCells, syntheticReport, syntheticUserCells } from './synthetic.ts';

const full = toHtml(syntheticReport());

test('self-contained: no script, no stylesheet link, nothing fetched over the network', async (t) => {
  const html = await full;
  t.false(/<script\b/i.test(html), 'no script at all');
  t.false(/<link\b/i.test(html), 'no external stylesheet or font');
  t.false(/<iframe\b|<img\b[^>]*src=["']?https?:/i.test(html));
  t.false(/\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i.test(html), 'no http(s) src/href');
  t.false(/url\(\s*["']?(?:https?:)?\/\//i.test(html), 'no remote url() in CSS');
  t.false(/@import/i.test(html));
  t.true(html.startsWith('<!doctype html>'));
});

test('charts: at least two inline SVGs with marks in them', async (t) => {
  const html = await full;
  const svgs = html.match(/<svg\b[\s\S]*?<\/svg>/g) ?? [];
  t.true(svgs.length >= 2, `found ${svgs.length}`);
  for (const svg of svgs) t.regex(svg, /<path|<rect/, 'not an empty chart');
  t.true(html.includes('Case 1: redirected into tap'), 'facet header');
  t.true(html.includes('offload / native'), 'ratio chart');
  t.true(html.includes('12.90') && html.includes('13.40'), 'bar labels: RFC and ours');
});

test('the explanation table, machine and options are there', async (t) => {
  const html = await full;
  t.true(html.includes('What explains each cell'));
  for (const h of ['pkts/wake', 'wakes/s', 'tap batch', 'copies/pkt', 'guest irq/s', 'ring-full/s']) t.true(html.includes(`>${h}</th>`), h);
  t.true(html.includes('Synthetic CPU @ 2.0GHz (test data)'));
  t.true(html.includes('6.1.0-test'));
  t.true(html.includes('uncapped'));
  t.true(html.includes('Shape holds'));
  t.false(html.includes('NaN'));
});

test('where the CPU went: a table of busy and waiting shares, with who waited for a core', async (t) => {
  const html = await full;
  const at = html.indexOf('<h3>Where the CPU went</h3>');
  t.true(at > 0);
  const section = html.slice(at, html.indexOf('</table>', at));
  t.true(section.includes('>on a core</th>') && section.includes('>waiting for a core</th>') && section.includes('>CPU probe</th>'));
  t.true(section.includes('title="vhost worker (handle_rx/handle_tx, the tap consumer and its offloaded program): share of one core"'));
  t.true(section.includes('<td>196%</td>'));
  t.true(html.includes('Waited for a core: 1 xdp1 native (vhost 37%, guest 12%)'));
  t.true(html.includes('<b>Shared the machine</b> (these figures measure its load too): 2 xdp1 native (other processes 31%)'));
});

test('run data is escaped, never markup', async (t) => {
  const r = syntheticReport();
  r.machine.cpu = '<img src=x onerror=alert(1)>';
  const html = await toHtml(r);
  t.false(html.includes('<img src=x'));
  t.true(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
});

test('a partial report with missing cells still renders', async (t) => {
  const html = await toHtml(syntheticReport(syntheticCells().filter((c) => c.mode === 'native')));
  t.true(html.includes('Shape incomplete'));
  t.true(html.includes('n/a'));
  t.false(html.includes('NaN'));
});

test('a shared machine is said first, above the title', async (t) => {
  const html = await full;
  const at = html.indexOf('<p class="shared">SHARED MACHINE: other processes or steal time took at least 10% of a core in 4 of 8 cells');
  t.true(at > 0);
  t.true(at < html.indexOf('<h1>'));
  const r = syntheticReport();
  for (const c of r.cells) c.explain['cpu_other'] = 0.02;
  t.false((await toHtml(r)).includes('class="shared"'));
});

test('the user\'s program: named, no RFC bars or figures, no verdict on the RFC\'s shape', async (t) => {
  const r = syntheticReport(syntheticUserCells());
  r.program = { object: 'my<prog>.o', section: null };
  const html = await toHtml(r);
  t.true(html.includes('<h1>virtio-net XDP offload: my&lt;prog&gt;.o</h1>'));
  t.true(html.includes('<b>No verdict on the RFC\'s shape.</b>'));
  t.true(html.includes('These cells ran your program (my&lt;prog&gt;.o) in place of xdp1 and xdp2'));
  t.false(html.includes('Shape holds'));
  t.true(html.includes('9.90'));
  t.false(html.includes('12.90'), 'no RFC figure anywhere');
  t.false(html.includes('NaN'));
  t.true((html.match(/<svg/g) ?? []).length >= 2);
});
