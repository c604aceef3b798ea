// PROG_ARRAY and bpf_tail_call against the kernel (npm run test:kernel): BPF_PROG_TEST_RUN return
// values, output frames and maps with the array empty and filled (bpftool map update ... value
// pinned PROG), the owner-type rule at update, verifier verdicts, counts and messages.
import { fileURLToPath } from 'node:url';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { KernelToolError, kernelTestRun, kernelVerify, kernelVerifyInsns } from '../support/kernel.ts';
import { kernelTest } from '../support/kernel-test.ts';
import { u32Key } from '../support/vm.ts';
import { TAILCALL_REJECTS } from '../tailcall/cases.ts';

const DIR = fileURLToPath(new URL('../fixtures/tailcall/', import.meta.url));
const OBJ = `${DIR}tail_calls.o`;
const SLOTS = [{ key: 0, program: 'stage_pass' }, { key: 1, program: 'self_loop' }, { key: 2, program: 'stage_seven' }];
const frame = (): Uint8Array => new Uint8Array(20).map((_, i) => i);

kernelTest('tail_calls.o: every program accepted with the kernel\'s processed counts', (t) => {
  const k = kernelVerify(OBJ);
  t.true(k.accepted);
  const coll = loadObjectFile(OBJ);
  t.deepEqual([...coll.programs.keys()].map((n) => verifyProgram(coll.program(n)).stats.processed), k.processedByProgram);
});

for (const program of ['entry', 'self_loop', 'via_subprog']) {
  for (const fill of [false, true]) {
    kernelTest(`${program} with the PROG_ARRAY ${fill ? 'filled' : 'empty'}: same return value, frame and maps as the kernel`, (t) => {
      const k = kernelTestRun(OBJ, { program, dataIn: frame(), progSlots: fill ? { jmp: SLOTS } : {} });
      for (const engine of ENGINES) {
        const coll = loadObjectFile(OBJ);
        if (fill) {
          for (const s of SLOTS) t.is(coll.maps.get('jmp')!.update(u32Key(s.key), u32Key(coll.fds.programFd(coll.program(s.program))!)), 0);
        }
        const r = bpfProgTestRun(coll.program(program), { dataIn: frame(), engine });
        t.is(r.retval, k.retval, engine);
        t.is(toHex(r.dataOut), toHex(k.dataOut), engine);
        t.is(toHex(coll.maps.get('hops')!.lookup(u32Key(0))!), k.maps.hops?.[0]?.value ?? '', engine);
      }
    });
  }
}

kernelTest('a program of another type cannot go into the PROG_ARRAY (EINVAL), one of the same type can', (t) => {
  const obj = `${DIR}tail_mixed.o`;
  const e = t.throws(() => kernelTestRun(obj, { program: 'xdp_dispatch', dataIn: frame(), progSlots: { progs: [{ key: 0, program: 'tc_other' }] } }));
  t.true(e instanceof KernelToolError && e.errno === 'EINVAL');
  const coll = loadObjectFile(obj);
  t.is(coll.maps.get('progs')!.update(u32Key(0), u32Key(coll.fds.programFd(coll.program('tc_other'))!)), -22);
  const k = kernelTestRun(obj, { program: 'xdp_dispatch', dataIn: frame(), progSlots: { progs: [{ key: 0, program: 'xdp_drop' }] } });
  t.is(coll.maps.get('progs')!.update(u32Key(0), u32Key(coll.fds.programFd(coll.program('xdp_drop'))!)), 0);
  for (const engine of ENGINES) t.is(bpfProgTestRun(coll.program('xdp_dispatch'), { dataIn: frame(), engine }).retval, k.retval);
});

kernelTest('tail_deep_stack.o: both refuse a tail call on 256 bytes of callers\' stack', (t) => {
  const obj = `${DIR}tail_deep_stack.o`;
  const k = kernelVerify(obj);
  t.false(k.accepted);
  const msg = 'tail_calls are not allowed when call stack of previous frames is 256 bytes. Too large';
  t.true(k.log.includes(msg));
  t.throws(() => verifyProgram(loadObjectFile(obj).program()), { message: msg });
});

for (const c of TAILCALL_REJECTS) {
  kernelTest(`the kernel rejects ${c.name} with '${c.expect}'`, (t) => {
    const ids: Record<string, number> = { jmp: 3, arr: 4, rb: 5 };
    const k = kernelVerifyInsns(assemble(c.asm, { mapId: (n) => ids[n] }), {
      maps: [
        { type: 3, keySize: 4, valueSize: 4, maxEntries: 4 },
        { type: 2, keySize: 4, valueSize: 8, maxEntries: 1 },
        { type: 27, keySize: 0, valueSize: 0, maxEntries: 4096 },
      ],
    });
    t.false(k.accepted);
    t.true(k.log.includes(c.expect), k.log.split('\n').slice(-5).join('\n'));
  });
}
