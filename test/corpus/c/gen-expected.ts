// Regenerates expected.json from the real kernel: npx tsx test/corpus/c/gen-expected.ts
// Needs root, bpftool, clang and a kernel that allows BPF (see test/support/kernel.ts). Run it
// after rebuilding any object (make -C scenarios/xdp; make -C test/corpus/c) and commit both.
// With object paths as arguments (npx tsx test/corpus/c/gen-expected.ts test/corpus/c/x.o), only
// those objects are run, and their cases replace theirs in the existing file; every other object
// keeps what an earlier kernel recorded (each merged object notes the kernel it came from).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '../../../bpf-vm/hex.ts';
import { KernelToolError, kernelAvailable, kernelTestRun, kernelVerify, type MapEntry } from '../../support/kernel.ts';
import { CORPUS_PROGRAMS, packetsFor } from './packets.ts';
import {
  EXPECTED_PATH,
  GOLDEN_SCHEMA,
  loadGolden,
  type GoldenCase,
  type GoldenCaseBase,
  type GoldenFile,
  type GoldenObject,
} from './golden.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n')[0]?.trim() ?? '';
}

/** ARRAY maps keep only non-zero slots: a 256-slot counter table is mostly zeros. */
function compact(maps: Record<string, MapEntry[]>, types: Record<string, { type: string }>): Record<string, MapEntry[]> {
  const out: Record<string, MapEntry[]> = {};
  for (const name of Object.keys(maps).sort()) {
    const entries = maps[name]!;
    out[name] = types[name]?.type === 'array' ? entries.filter((e) => /[^0]/.test(e.value)) : entries;
  }
  return out;
}

function main(): void {
  const avail = kernelAvailable();
  if (!avail.ok) {
    console.error(`gen-expected: the kernel is not usable here: ${avail.reason}`);
    process.exit(1);
  }

  const objects: Record<string, GoldenObject> = {};
  const cases: GoldenCase[] = [];

  const only = process.argv.slice(2);
  for (const o of only) {
    if (!CORPUS_PROGRAMS.some((p) => p.object === o)) throw new Error(`${o} is not an object of packets.ts's CORPUS_PROGRAMS`);
  }
  const selected = only.length === 0 ? CORPUS_PROGRAMS : CORPUS_PROGRAMS.filter((p) => only.includes(p.object));
  for (const prog of selected) {
    const objPath = join(ROOT, prog.object);
    const verdict = kernelVerify(objPath);
    if (!verdict.accepted) {
      console.error(verdict.log.split('\n').slice(-40).join('\n'));
      throw new Error(`the kernel verifier rejected ${prog.object}`);
    }
    const obj: GoldenObject = {
      program: prog.program,
      sha256: createHash('sha256').update(readFileSync(objPath)).digest('hex'),
      verifierProcessed: verdict.processed ?? null,
      maps: {},
    };
    objects[prog.object] = obj;

    let refused = 0;
    const packets = packetsFor(prog);
    for (const pk of packets) {
      const base: GoldenCaseBase = {
        object: prog.object,
        program: prog.program,
        packetName: pk.name,
        dataInHex: toHex(pk.data),
      };
      if (pk.mapUpdates) base.mapUpdates = Object.fromEntries(Object.entries(pk.mapUpdates).map(([k, v]) => [k, [...v]]));
      try {
        const r = kernelTestRun(objPath, {
          program: prog.program,
          dataIn: pk.data,
          repeat: 1,
          ...(pk.mapUpdates ? { mapUpdates: pk.mapUpdates } : {}),
        });
        if (Object.keys(obj.maps).length === 0) {
          for (const name of Object.keys(r.mapInfo).sort()) obj.maps[name] = r.mapInfo[name]!;
        }
        cases.push({ ...base, retval: r.retval, dataOutHex: toHex(r.dataOut), maps: compact(r.maps, r.mapInfo) });
      } catch (e) {
        // The kernel refusing an input is a result too (frames under ETH_HLEN get EINVAL).
        if (!(e instanceof KernelToolError) || e.errno === undefined || !/failed to run program/.test(e.stderr)) throw e;
        cases.push({ ...base, error: e.errno });
        refused++;
      }
    }
    console.log(`${prog.object}: ${packets.length} packets (${refused} refused), verifier processed ${obj.verifierProcessed}`);
  }

  if (only.length > 0 && existsSync(EXPECTED_PATH)) {
    const old = loadGolden();
    const kernel = firstLine('uname', ['-r']);
    for (const o of only) objects[o] = { ...objects[o]!, kernel };
    const merged: GoldenFile = {
      ...old,
      objects: { ...old.objects, ...objects },
      cases: [...old.cases.filter((c) => !only.includes(c.object)), ...cases],
    };
    writeFileSync(EXPECTED_PATH, JSON.stringify(merged, null, 1) + '\n');
    console.log(`merged ${cases.length} cases of ${only.join(', ')} into ${EXPECTED_PATH}`);
    return;
  }

  const golden: GoldenFile = {
    schema: GOLDEN_SCHEMA,
    generator: 'test/corpus/c/gen-expected.ts',
    environment: {
      kernel: firstLine('uname', ['-r']),
      bpftool: firstLine('bpftool', ['version']),
      clang: firstLine('clang', ['--version']),
    },
    conventions: [
      'Hex strings are bytes in memory order (map keys/values little-endian as the host stores them).',
      'Each case loads the object fresh (maps in their initial state), applies mapUpdates, then runs BPF_PROG_TEST_RUN once.',
      'dataOutHex is data_meta..data_end: metadata from bpf_xdp_adjust_meta precedes the packet.',
      'ARRAY maps list only entries whose value is not all zero; hash maps list all entries sorted by key hex; empty DEVMAP slots are absent.',
      'Global data maps are named by section (.bss, .data, .rodata); other maps by their C name.',
      'A case with "error" instead of "retval" is an input the kernel refused before running the program (errno name).',
    ],
    objects,
    cases,
  };
  writeFileSync(EXPECTED_PATH, JSON.stringify(golden, null, 1) + '\n');
  console.log(`wrote ${cases.length} cases to ${EXPECTED_PATH}`);
}

main();
