// vxo's verifier log beside the kernel's (npm run test:kernel): the infinite loop found at the same
// instruction after the same number of processed instructions, with the same states; level 1 of
// an accepted program and level 4/5 (statistics) line for line; BTF line info in the level-2 log
// of xdp1.o. Where the kernel cannot be asked every test logs why and passes.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { verifyProgram, VerifierError, type VerifierLogLevel } from '../../bpf-vm/verifier/index.ts';
import { kernelVerify, kernelVerifyInsns } from '../support/kernel.ts';
import { kernelTest } from '../support/kernel-test.ts';
import { caseProgram } from '../verifier/support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INFINITE = join(ROOT, 'test/fixtures/verifier-log/infinite_loop.o');
const XDP1 = join(ROOT, 'scenarios/xdp/xdp1.o');

function vxoLog(p: Program, logLevel: VerifierLogLevel): { accepted: boolean; log: string; processed: number } {
  try {
    const r = verifyProgram(p, { logLevel });
    return { accepted: true, log: r.log, processed: r.stats.processed };
  } catch (e) {
    if (!(e instanceof VerifierError)) throw e;
    return { accepted: false, log: e.log, processed: e.processed };
  }
}

/** The verifier's part of bpftool -d's output. */
function progLog(out: string): string {
  const b = out.indexOf('-- BEGIN PROG LOAD LOG --\n');
  const e = out.indexOf('-- END PROG LOAD LOG --');
  return b >= 0 && e > b ? out.slice(b + '-- BEGIN PROG LOAD LOG --\n'.length, e) : out;
}

/** Each source line of a log with the instruction it precedes: `pc: ; text @ file:line`. */
function lineInfoLines(log: string): Set<string> {
  const out = new Set<string>();
  const lines = log.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    if (!lines[i]!.startsWith('; ')) continue;
    const m = /^(\d+): \(/.exec(lines[i + 1]!);
    if (m) out.add(`${m[1]}: ${lines[i]}`);
  }
  return out;
}

const statsShape = (log: string): string => log.replace(/^verification time \d+ usec$/m, 'verification time N usec');

kernelTest('infinite loop: the kernel\'s message, instruction, processed count and states', (t) => {
  const k = kernelVerify(INFINITE);
  t.false(k.accepted);
  const kl = progLog(k.log);
  const v = vxoLog(loadObjectFile(INFINITE).program(), 2);
  t.false(v.accepted);
  t.is(v.processed, k.processed ?? -1);
  const tail = (log: string): string[] => {
    const lines = log.split('\n');
    const i = lines.findIndex((l) => l.startsWith('infinite loop detected'));
    return lines.slice(i - 1, i + 3);
  };
  t.deepEqual(tail(v.log), tail(kl));
  t.log(`kernel and vxo: ${tail(kl)[1]} after ${k.processed} insns`);
});

kernelTest('level 1 of an accepted program and levels 4 and 5: the kernel\'s lines', (t) => {
  const ok = caseProgram({ src: 'mov %r0, 2\nexit' });
  const bad = caseProgram({ src: 'ldxw %r2, [%r1+0]\nmov %r0, 2\nldxb %r0, [%r2+0]\nexit' });
  for (const p of [ok, bad]) {
    for (const level of [1, 4, 5] as const) {
      const k = kernelVerifyInsns(p.insns, { logLevel: level as 1 });
      const v = vxoLog(p, level);
      t.is(v.accepted, k.accepted);
      t.is(statsShape(v.log), statsShape(k.log), `level ${level}, ${k.accepted ? 'accepted' : 'rejected'}`);
    }
  }
});

kernelTest('BTF line info: xdp1.o\'s level-2 log shows the kernel\'s source lines before the same instructions', (t) => {
  const k = lineInfoLines(progLog(kernelVerify(XDP1).log));
  const v = lineInfoLines(vxoLog(loadObjectFile(XDP1).program(), 2).log);
  t.true(k.size > 10, `${k.size} source lines in the kernel's log`);
  // The kernel's walk is shorter (144 processed instructions to vxo's 157): each source line it
  // prints, vxo prints before the same instruction.
  const missing = [...k].filter((l) => !v.has(l));
  t.deepEqual(missing, []);
  t.log(`${k.size} source lines in the kernel's log, all in vxo's (${v.size})`);
});
