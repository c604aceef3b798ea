// The programs of test/verifier/kernel-parity-cases.ts against the live kernel (npm run test:kernel):
// its verdict, errno and first error line must be those the cases record (and vxo gives, per
// test/verifier/kernel-parity.test.ts), except where a case documents a deliberate difference.
// Cases with BTF function info go to the kernel as their C twin, built with clang -g; vxo's loader
// must find the same instructions in that object as the assembler makes of the case.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { clangBpfArgs, kernelAvailable, kernelVerify, kernelVerifyInsns } from '../support/kernel.ts';
import { PARITY_CASES, parityProgram } from '../verifier/kernel-parity-cases.ts';

const avail = kernelAvailable();
const fields = (i: { code: number; dst: number; src: number; off: number; imm: number }): string =>
  `${i.code}:${i.dst}:${i.src}:${i.off}:${i.imm}`;

for (const c of PARITY_CASES) {
  test.serial(`kernel: ${c.name}`, (t) => {
    if (!avail.ok) {
      t.log(`kernel reference unavailable: ${avail.reason}`);
      t.pass();
      return;
    }
    const prog = parityProgram(c);
    let accepted: boolean, log: string, errno: string | undefined;
    if (c.c !== undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'vxo-parity-'));
      try {
        const src = join(dir, 'prog.c'), obj = join(dir, 'prog.o');
        writeFileSync(src, c.c);
        const cc = spawnSync('clang', clangBpfArgs(src, obj), { encoding: 'utf8' });
        t.is(cc.status, 0, cc.stderr);
        // The same instructions as the assembled case (the main program, then its subprogram).
        const loaded = loadObjectFile(obj).program('prog');
        t.deepEqual(loaded.insns.map(fields), prog.insns.map(fields));
        t.deepEqual(loaded.funcs.map((f) => f.start), prog.funcs.map((f) => f.start));
        const r = kernelVerify(obj);
        accepted = r.accepted; log = r.log; errno = accepted ? undefined : 'EACCES';
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } else {
      const r = kernelVerifyInsns(prog.insns, { progType: c.type ?? BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, logLevel: 1 });
      accepted = r.accepted; log = r.log; errno = r.errno;
    }
    if (c.vxoOnly !== undefined) {
      t.is(accepted ? 'accepted' : 'rejected', c.vxoOnly.kernel, `the documented kernel verdict (${c.vxoOnly.why})`);
      return;
    }
    if (c.msg === undefined) {
      t.true(accepted, log.slice(-2000));
      return;
    }
    t.false(accepted);
    t.true(log.includes(`${c.msg}\n`), log.slice(-2000));
    // bpftool reports no errno for an object; raw loads do.
    if (c.c === undefined) t.is(errno, c.code ?? 'EACCES');
  });
}
