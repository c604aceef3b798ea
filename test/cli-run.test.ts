// `vxo run` and `vxo table` as a user runs them: the documented JSON shapes, the HTML report, the
// pcap capture (read back by tcpdump where installed, by our own reader otherwise), exit codes.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcapFile } from '../host/net/index.ts';
import { checkTableJson } from '../scenarios/report/index.ts';
import { REPO_ROOT } from './support/vm.ts';

const dir = mkdtempSync(join(tmpdir(), 'vxo-run-'));

function vxo(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/vxo.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.serial('vxo run --json has the documented shape and a balanced account', (t) => {
  const r = vxo(['run', 'case1', '--prog', 'xdp1', '--mode', 'offload', '--duration', '0.3', '--warmup', '0.1', '--json']);
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown> & { accounting: Record<string, unknown>; counters: Record<string, number> };
  for (const k of ['scenario', 'prog', 'mode', 'mpps', 'packets', 'seconds', 'counters', 'accounting']) t.true(k in j, k);
  t.is(j['scenario'], 'case1');
  t.is(j['prog'], 'xdp1');
  t.is(j['mode'], 'offload');
  t.true((j['mpps'] as number) > 0);
  t.is(typeof j.accounting['generated'], 'number');
  t.is(j.accounting['generated'], j.accounting['accounted']);
  t.true(j.accounting['balanced']);
  t.true(j.counters['tap_xdp_drop']! > 0, 'the offloaded xdp1 dropped on the tap');
  t.is(j.counters['guest_rx_frames'], 0, 'nothing crossed into the guest');
});

test.serial('vxo run --pcap writes a capture that tcpdump (or our reader) opens', (t) => {
  const file = join(dir, 'tap.pcap');
  const r = vxo(['run', 'case2', '--prog', 'xdp2', '--duration', '0.2', '--warmup', '0.1', '--pcap', file, '--pcap-at', 'tap', '--pcap-count', '20']);
  t.is(r.status, 0, r.stderr);
  const pcap = readPcapFile(file);
  t.is(pcap.packets.length, 20);
  for (const p of pcap.packets) {
    t.is(p.data.length, 60);
    t.is(p.data[23], 17, 'IPv4 UDP');
  }
  const td = spawnSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8' });
  if (td.error) t.log(`tcpdump not installed (${td.error.message}): checked with our reader only`);
  else {
    t.is(td.status, 0, td.stderr);
    t.is(td.stdout.trim().split('\n').length, 20);
    t.regex(td.stdout, /IP 10\.0\.0\.1\.9 > 10\.0\.0\.2\.9: UDP/);
  }
});

test.serial('vxo run refuses a bad scenario, mode or capture point with exit 2', (t) => {
  t.is(vxo(['run', 'case3']).status, 2);
  t.is(vxo(['run', 'case1', '--mode', 'hw']).status, 2);
  t.is(vxo(['run', 'case1', '--pcap', join(dir, 'x.pcap'), '--pcap-at', 'wire']).status, 2);
  t.is(vxo(['run', 'case1', '--prog', join(dir, 'missing.o')]).status, 2);
});

test.serial('vxo table --json and --html for a subset of cells', (t) => {
  const json = join(dir, 't.json');
  const html = join(dir, 't.html');
  const r = vxo(['table', '--cells', '1/xdp1/native,1/xdp1/offload', '--duration', '0.3', '--warmup', '0.1', '--repeat', '1', '--json', json, '--html', html]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /redirected into tap/);
  const j = JSON.parse(readFileSync(json, 'utf8')) as { cells: { mpps: number; paper_mpps: number }[] };
  t.deepEqual(checkTableJson(j), []);
  t.is(j.cells.length, 2);
  for (const c of j.cells) t.true(c.mpps > 0);
  const h = readFileSync(html, 'utf8');
  t.true((h.match(/<svg/g) ?? []).length >= 2, 'the charts are inline SVG');
  t.false(/(src|href)=["']https?:/.test(h), 'opens offline');
});
