// When vxo verifies (bpf-vm/prog/collection.ts): loading an object checks structure only; the
// verifier runs when a runner is built (every bpfProgTestRun), unless told not to.
import test from 'ava';
import { ElfError } from '../bpf-vm/errors.ts';
import { parseElf } from '../bpf-vm/elf/collection.ts';
import { loadCollection, loadObjectFile } from '../bpf-vm/prog/collection.ts';
import { bpfProgTestRun } from '../bpf-vm/prog/test-run.ts';
import { XdpProgramRunner } from '../bpf-vm/prog/xdp-runner.ts';
import { VerifierError } from '../bpf-vm/verifier/api.ts';
import { verifyProgram } from '../bpf-vm/verifier/index.ts';
import { readFileSync } from 'node:fs';
import { udp64 } from './support/packets.ts';
import { REPO_ROOT } from './support/vm.ts';

const UNCHECKED = `${REPO_ROOT}test/fixtures/cli/pkt_unchecked.o`;

test('loadObjectFile loads a program the verifier rejects: loading does not verify', (t) => {
  const p = loadObjectFile(UNCHECKED).program();
  t.is(p.name, 'pkt_unchecked');
  t.throws(() => verifyProgram(p), { instanceOf: VerifierError, message: /invalid access to packet/ });
});

test('bpfProgTestRun and XdpProgramRunner verify first; verify: false or a VerifyResult skips it', (t) => {
  const p = loadObjectFile(UNCHECKED).program();
  t.throws(() => bpfProgTestRun(p, { dataIn: udp64() }), { instanceOf: VerifierError });
  t.throws(() => new XdpProgramRunner(p), { instanceOf: VerifierError });
  t.is(bpfProgTestRun(p, { dataIn: udp64(), verify: false }).retval, 2);
  const ok = loadObjectFile(`${REPO_ROOT}scenarios/xdp/xdp1.o`).program();
  const v = verifyProgram(ok);
  t.is(new XdpProgramRunner(ok, { verify: v }).verified, v, 'an earlier result is reused, not recomputed');
});

test('loading does check structure: a malformed instruction fails at load, named by section and offset', (t) => {
  const bytes = new Uint8Array(readFileSync(UNCHECKED));
  const spec = parseElf(bytes, 'pkt_unchecked.o');
  const prog = spec.programs[0]!;
  const insns = prog.insns.map((i) => ({ ...i }));
  insns[1] = { ...insns[1]!, code: 0xff }; // no such opcode
  t.throws(() => loadCollection({ ...spec, programs: [{ ...prog, insns }] }), { instanceOf: ElfError, message: /^xdp\+0x8: program pkt_unchecked: insn 1: unknown opcode 0xff/ });
});
