// vxo's verifier against the kernel's (npm run test:kernel): the accept corpus (every XDP program
// of every object in scenarios/xdp, test/corpus/c and test/fixtures/elf) must be accepted by
// both, the rejection corpus (test/verifier-corpus) rejected by both. Prints the agreement.
// Where the kernel cannot be asked (not Linux, not root, no bpftool or clang) every test logs why
// and passes.
import test from 'ava';
import { VerifierError } from '../../bpf-vm/verifier/api.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { kernelAvailable, kernelVerify, kernelVerifyInsns, missingKernelHelper } from '../support/kernel.ts';
import { acceptObjects, acceptProgram, rawProgram } from '../verifier-corpus/accept.ts';
import { loadUnsafeCorpus } from '../verifier-corpus/corpus.ts';
import { askKernel } from '../verifier-corpus/kernel-verdict.ts';

const avail = kernelAvailable();

interface Verdict {
  accepted: boolean;
  /** The first error line (kernel) or message (vxo) of a rejection. */
  why?: string;
}

function vxoVerdict(make: () => Program): Verdict {
  try {
    verifyProgram(make(), { logLevel: 0 });
    return { accepted: true };
  } catch (e) {
    if (e instanceof VerifierError) return { accepted: false, why: e.message };
    return { accepted: false, why: `not a VerifierError: ${e instanceof Error ? e.message : String(e)}` };
  }
}

const tally = { accept: { agree: 0, total: 0 }, unsafe: { agree: 0, total: 0 } };
const disagreements: string[] = [];

function record(kind: 'accept' | 'unsafe', name: string, kernel: Verdict, vxo: Verdict): void {
  const want = kind === 'accept';
  tally[kind].total++;
  if (kernel.accepted === want && vxo.accepted === want) tally[kind].agree++;
  else if (kernel.accepted !== vxo.accepted) {
    disagreements.push(`${name}: kernel ${kernel.accepted ? 'accepts' : `rejects (${kernel.why})`}, vxo ${vxo.accepted ? 'accepts' : `rejects (${vxo.why})`}`);
  }
}

if (!avail.ok) {
  test('verifier differential against the kernel', (t) => {
    t.log(`kernel reference unavailable: ${avail.reason}`);
    t.pass();
  });
} else {
  for (const obj of acceptObjects()) {
    test.serial(`accept: ${obj.object} (${obj.programs.join(', ')})`, (t) => {
      if (obj.skipped.length > 0) t.log(`not XDP, left out: ${obj.skipped.join(', ')}`);
      // libbpf loads the object as a whole; where it cannot open it (legacy maps, section names
      // it does not know), each program goes to the kernel as raw instructions with its maps.
      const whole = kernelVerify(obj.path);
      const kernelOf = (name: string): Verdict => {
        if (whole.accepted) return { accepted: true };
        const raw = rawProgram(obj.path, name);
        const r = kernelVerifyInsns(raw.insns, { progType: raw.progType, maps: raw.maps, logLevel: 1 });
        return r.accepted ? { accepted: true } : { accepted: false, why: `${r.errno} ${r.log.trim().split('\n').slice(-2, -1)[0] ?? ''}` };
      };
      if (!whole.accepted) t.log('libbpf refused the object as a whole; asked the kernel program by program');
      for (const name of obj.programs) {
        const k = kernelOf(name);
        const v = vxoVerdict(() => acceptProgram(obj.path, name));
        const gap = k.accepted ? undefined : missingKernelHelper(k.why ?? '');
        if (gap !== undefined) {
          t.log(`${obj.object}:${name}: ${gap}`);
          t.true(v.accepted, `${obj.object}:${name}: vxo rejects it: ${v.why}`);
          continue;
        }
        record('accept', `${obj.object}:${name}`, k, v);
        t.true(k.accepted, `${obj.object}:${name}: the kernel rejects it: ${k.why}`);
        t.true(v.accepted, `${obj.object}:${name}: vxo rejects it: ${v.why}`);
      }
    });
  }

  for (const c of loadUnsafeCorpus()) {
    test.serial(`unsafe: ${c.name}`, (t) => {
      const k = askKernel(c.kernelInput());
      const kv: Verdict = k.accepted ? { accepted: true } : { accepted: false, why: `${k.errno} ${k.lines[0] ?? ''}` };
      const v = vxoVerdict(() => c.program());
      record('unsafe', c.name, kv, v);
      t.false(k.accepted, `${c.name}: the kernel (${c.kernelMode}) accepts it`);
      t.false(v.accepted, `${c.name}: vxo accepts it`);
      if (!k.accepted && c.kernel !== undefined && k.lines[0] !== c.kernel.lines[0]) {
        t.log(`the kernel's message changed: recorded '${c.kernel.lines[0] ?? ''}', now '${k.lines[0] ?? ''}'`);
      }
    });
  }

  test.serial('agreement', (t) => {
    const all = tally.accept.agree + tally.unsafe.agree;
    const total = tally.accept.total + tally.unsafe.total;
    t.log(`agree ${all}/${total} (accept corpus ${tally.accept.agree}/${tally.accept.total}, unsafe corpus ${tally.unsafe.agree}/${tally.unsafe.total})`);
    for (const d of disagreements) t.log(d);
    t.is(all, total);
  });
}
