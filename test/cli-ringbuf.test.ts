// `vxo prog run` on a program that writes a RINGBUF: the records the run produced, as hex, after
// the result line, or under "ringbuf" in --json. Runs bin/vxo.js, the build `npm test` makes first,
// as the other CLI tests do: under tsx each run spent about 1 s of CPU compiling the CLI.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './support/vm.ts';

const dir = mkdtempSync(join(tmpdir(), 'vxo-cli-ringbuf-'));
const pkt = join(dir, 'pkt.bin');
writeFileSync(pkt, new Uint8Array(60).map((_, i) => i + 1));
const OBJ = join(REPO_ROOT, 'test/fixtures/ringbuf/ringbuf_events.o');
const RECORDS = ['88776655443322113c000000010203040506070800000000', '3c000000'];

function vxo(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/vxo.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('prog run prints each ringbuf record as hex after the result line', (t) => {
  const r = vxo(['prog', 'run', OBJ, '--data-in', pkt]);
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.regex(lines[0]!, /^Return value: 82, duration: \d+ns$/);
  t.deepEqual(lines.slice(1), ['ringbuf events: 2 records', ...RECORDS.map((h) => `  ${h}`)]);
});

test('prog run --json puts the records under "ringbuf", by map name', (t) => {
  const r = vxo(['prog', 'run', OBJ, '--data-in', pkt, '--json', '--repeat', '2']);
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { retval: number; ringbuf: Record<string, string[]>; maps: Record<string, unknown[]> };
  t.is(j.retval, 162);
  t.deepEqual(j.ringbuf, { events: [...RECORDS, ...RECORDS] });
  t.deepEqual(j.maps['events'], []);
});
