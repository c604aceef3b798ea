// expected.json must describe the committed objects and the packets packets.ts builds today;
// otherwise a vxo-vs-kernel comparison would compare against a different input. No kernel needed.
import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '../../../bpf-vm/hex.ts';
import { CORPUS_PROGRAMS, packetsFor } from './packets.ts';
import { isRefusal, loadGolden } from './golden.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const golden = loadGolden();

test('every corpus program and packet has exactly one golden case', (t) => {
  const want = CORPUS_PROGRAMS.flatMap((p) => packetsFor(p).map((pk) => `${p.object}#${pk.name}`));
  const have = golden.cases.map((c) => `${c.object}#${c.packetName}`);
  t.deepEqual(have, want);
});

test('golden inputs are the bytes packets.ts builds', (t) => {
  for (const p of CORPUS_PROGRAMS) {
    const byName = new Map(golden.cases.filter((c) => c.object === p.object).map((c) => [c.packetName, c]));
    for (const pk of packetsFor(p)) {
      const c = byName.get(pk.name);
      t.is(c?.dataInHex, toHex(pk.data), `${p.object} ${pk.name}`);
      t.deepEqual(c?.mapUpdates, pk.mapUpdates, `${p.object} ${pk.name} map updates`);
    }
  }
});

test('golden cases were produced from the committed objects', (t) => {
  for (const p of CORPUS_PROGRAMS) {
    const obj = golden.objects[p.object];
    const sha = createHash('sha256').update(readFileSync(join(ROOT, p.object))).digest('hex');
    t.is(obj?.sha256, sha, `${p.object} changed: rerun npx tsx test/corpus/c/gen-expected.ts`);
    t.is(obj?.program, p.program);
  }
});

test('the kernel refused only frames shorter than ETH_HLEN', (t) => {
  for (const c of golden.cases) {
    const short = c.dataInHex.length / 2 < 14;
    t.is(isRefusal(c), short, `${c.object} ${c.packetName}`);
    if (isRefusal(c)) t.is(c.error, 'EINVAL');
  }
});
