// vxo against the live kernel: every scenario and corpus object, every corpus packet, every
// engine: the same return value, output frame and maps as BPF_PROG_TEST_RUN. Skips, with the
// reason, where the kernel cannot be asked.
import test from 'ava';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { BpfError } from '../../bpf-vm/errors.ts';
import { fromHex, toHex } from '../../bpf-vm/hex.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { CORPUS_PROGRAMS, packetsFor } from '../corpus/c/packets.ts';
import { KernelToolError, kernelAvailable, kernelTestRun, missingKernelHelper, type KernelRunResult } from '../support/kernel.ts';
import { goldenMaps, REPO_ROOT } from '../support/vm.ts';

const avail = kernelAvailable();

/** The kernel's dump in the golden conventions: array-like maps keep only non-zero values. */
function kernelMaps(r: KernelRunResult): Record<string, { key: string; value: string }[]> {
  const out: Record<string, { key: string; value: string }[]> = {};
  for (const [name, entries] of Object.entries(r.maps)) {
    const type = r.mapInfo[name]?.type ?? '';
    const arrayLike = type === 'array' || type === 'percpu_array';
    out[name] = arrayLike ? entries.filter((e) => /[^0]/.test(e.value)) : [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  return out;
}

for (const p of CORPUS_PROGRAMS) {
  test.serial(`${p.object} ${p.program}: vxo and the kernel agree on every packet`, (t) => {
    if (!avail.ok) {
      t.log(`skipped: ${avail.reason}`);
      t.pass();
      return;
    }
    let compared = 0;
    for (const pk of packetsFor(p)) {
      let k: KernelRunResult | undefined;
      let kernelErr: string | undefined;
      try {
        k = kernelTestRun(`${REPO_ROOT}${p.object}`, { program: p.program, dataIn: pk.data, mapUpdates: pk.mapUpdates });
      } catch (e) {
        if (!(e instanceof KernelToolError)) throw e;
        const gap = missingKernelHelper(`${e.message}\n${e.stderr}`);
        if (gap !== undefined) {
          t.log(gap);
          t.pass();
          return;
        }
        kernelErr = e.errno ?? e.message;
      }
      for (const engine of ENGINES) {
        const coll = loadObjectFile(`${REPO_ROOT}${p.object}`);
        for (const [name, entries] of Object.entries(pk.mapUpdates ?? {})) {
          for (const e of entries) coll.maps.get(name)!.update(fromHex(e.key), fromHex(e.value));
        }
        const where = `${engine} ${pk.name}`;
        if (k === undefined) {
          const e = t.throws(() => bpfProgTestRun(coll.program(p.program), { dataIn: pk.data, engine }), { instanceOf: BpfError }, where);
          t.is(e?.code as string | undefined, kernelErr, `${where}: the kernel refused with ${kernelErr}`);
          continue;
        }
        const r = bpfProgTestRun(coll.program(p.program), { dataIn: pk.data, engine });
        t.is(r.retval, k.retval, `${where}: retval`);
        t.is(toHex(r.dataOut), toHex(k.dataOut), `${where}: data_out`);
        t.deepEqual(goldenMaps(coll), kernelMaps(k), `${where}: maps`);
        compared++;
      }
    }
    t.log(`${compared} runs compared`);
  });
}
