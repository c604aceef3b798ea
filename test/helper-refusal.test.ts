// A call to a helper the program's type does not get: the kernel's words where the kernel refuses
// it too, and "not implemented by vxo" where the kernel has it and vxo does not; in the verifier
// and, for unverified runs, when the program is prepared.
import test from 'ava';
import { InvalidProgramError } from '../bpf-vm/errors.ts';
import { helperRefusal } from '../bpf-vm/helpers/availability.ts';
import { KERNEL_FUNC_PROTOS } from '../bpf-vm/helpers/kernel-func-protos.ts';
import { BPF_FUNC_MAX_ID, linuxHelperName } from '../bpf-vm/helpers/names.ts';
import { HELPERS_BY_ID, helpersFor } from '../bpf-vm/helpers/table.ts';
import { loadObjectFile } from '../bpf-vm/prog/collection.ts';
import { prepareProgram } from '../bpf-vm/prog/prepare.ts';
import { BPF_PROG_TYPE } from '../bpf-vm/prog/types.ts';
import { VerifierError } from '../bpf-vm/verifier/api.ts';
import { verifyProgram } from '../bpf-vm/verifier/index.ts';
import { asmXdp, REPO_ROOT } from './support/vm.ts';

const T = BPF_PROG_TYPE;
const callProg = (id: number, type: number = T.BPF_PROG_TYPE_XDP) => ({ ...asmXdp(`call ${id}\nmov %r0, 0\nexit`), type: type as typeof T.BPF_PROG_TYPE_XDP });

test('every helper id Linux defines has its name; 0 and ids from 212 up are unknown', (t) => {
  t.is(BPF_FUNC_MAX_ID, 212);
  for (let id = 1; id < BPF_FUNC_MAX_ID; id++) t.regex(linuxHelperName(id) ?? '', /^bpf_[a-z0-9_]+$/, `id ${id}`);
  t.is(linuxHelperName(1), 'bpf_map_lookup_elem');
  t.is(linuxHelperName(189), 'bpf_xdp_load_bytes');
  t.is(linuxHelperName(211), 'bpf_cgrp_storage_delete');
  for (const id of [0, -1, 212, 9999]) t.is(linuxHelperName(id), undefined);
});

test('the recorded kernel lists agree with what the kernel is known to give each type', (t) => {
  const xdp = KERNEL_FUNC_PROTOS.get(T.BPF_PROG_TYPE_XDP)!;
  for (const id of [1, 6, 23, 44, 51, 65, 189, 190]) t.true(xdp.has(id), `XDP gets ${linuxHelperName(id)}`);
  for (const id of [9, 10, 26, 40]) t.false(xdp.has(id), `XDP does not get ${linuxHelperName(id)}`);
  t.true(KERNEL_FUNC_PROTOS.get(T.BPF_PROG_TYPE_SCHED_CLS)!.has(9), 'tc gets bpf_skb_store_bytes');
});

test('the three kinds of refusal, by program type', (t) => {
  t.deepEqual(helperRefusal(T.BPF_PROG_TYPE_XDP, 188), { code: 'EOPNOTSUPP', message: 'helper bpf_xdp_get_buff_len#188 is not implemented by vxo' });
  t.deepEqual(helperRefusal(T.BPF_PROG_TYPE_XDP, 9), { code: 'EINVAL', message: 'program of this type cannot use helper bpf_skb_store_bytes#9' });
  t.deepEqual(helperRefusal(T.BPF_PROG_TYPE_XDP, 40), { code: 'EINVAL', message: 'program of this type cannot use helper bpf_csum_update#40' });
  t.deepEqual(helperRefusal(T.BPF_PROG_TYPE_XDP, 9999), { code: 'EINVAL', message: 'invalid func unknown#9999' });
  t.deepEqual(helperRefusal(T.BPF_PROG_TYPE_XDP, 0), { code: 'EINVAL', message: 'invalid func unknown#0' });
  // Every helper vxo implements, it gives to each program type the kernel gives it to: the third
  // kind ("not implemented by vxo for <type> programs") has no case left among the recorded types.
  t.true(helpersFor(T.BPF_PROG_TYPE_SCHED_ACT).has(84), 'SCHED_ACT gets bpf_sk_lookup_tcp, as in the kernel');
  const gaps: string[] = [];
  for (const [type, ids] of KERNEL_FUNC_PROTOS) {
    for (const id of ids) if (HELPERS_BY_ID.has(id) && !helpersFor(type).has(id)) gaps.push(helperRefusal(type, id).message);
  }
  t.deepEqual(gaps, []);
});

test('the verifier: a kernel log up to the call, then the refusal; its code tells vxo\'s gap from the kernel\'s rule', (t) => {
  const gap = t.throws(() => verifyProgram(callProg(188), { logLevel: 1 }), { instanceOf: VerifierError })!;
  t.is(gap.code, 'EOPNOTSUPP');
  t.is(gap.message, 'helper bpf_xdp_get_buff_len#188 is not implemented by vxo');
  t.regex(gap.log, /0: \(85\) call bpf_xdp_get_buff_len#188\nhelper bpf_xdp_get_buff_len#188 is not implemented by vxo\nprocessed 1 insns/);
  const rule = t.throws(() => verifyProgram(callProg(9), { logLevel: 1 }), { instanceOf: VerifierError })!;
  t.is(rule.code, 'EINVAL');
  t.regex(rule.log, /0: \(85\) call bpf_skb_store_bytes#9\nprogram of this type cannot use helper bpf_skb_store_bytes#9\n/);
  const unknown = t.throws(() => verifyProgram(callProg(4242), { logLevel: 1 }), { instanceOf: VerifierError })!;
  t.regex(unknown.log, /0: \(85\) call unknown#4242\ninvalid func unknown#4242\n/);
});

test('unverified: preparing the program refuses the call with the same words', (t) => {
  const p = callProg(188);
  const e = t.throws(() => prepareProgram({ type: p.type, insns: p.insns, fds: p.fds }), { instanceOf: InvalidProgramError })!;
  t.is(e.code, 'EOPNOTSUPP');
  t.is(e.message, 'insn 0: helper bpf_xdp_get_buff_len#188 is not implemented by vxo');
  const q = callProg(10);
  t.regex(t.throws(() => prepareProgram({ type: q.type, insns: q.insns, fds: q.fds }))!.message, /program of this type cannot use helper bpf_l3_csum_replace#10/);
});

test('the clang fixture calling bpf_xdp_get_buff_len is refused by name', (t) => {
  const p = loadObjectFile(`${REPO_ROOT}test/fixtures/cli/xdp_buff_len.o`).program();
  const e = t.throws(() => verifyProgram(p), { instanceOf: VerifierError })!;
  t.is(e.message, 'helper bpf_xdp_get_buff_len#188 is not implemented by vxo');
});
