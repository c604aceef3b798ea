// PROG_ARRAY maps and bpf_tail_call on both engines: programs of the same object put into the
// array by fd, as libbpf users do; a tail call replaces the frame (from a subprogram, the target's
// r0 goes to the subprogram's caller); an empty slot lets execution continue; a chain makes at most
// MAX_TAIL_CALL_CNT (33) calls; the verifier's rules for it.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { ENGINES } from '../bpf-vm/engines.ts';
import { BpfError } from '../bpf-vm/errors.ts';
import { toHex } from '../bpf-vm/hex.ts';
import { createMap } from '../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE } from '../bpf-vm/maps/map.ts';
import { ProgArrayMap } from '../bpf-vm/maps/prog-array.ts';
import { loadObjectFile, type Collection } from '../bpf-vm/prog/collection.ts';
import { bpfProgTestRun } from '../bpf-vm/prog/test-run.ts';
import { VerifierError } from '../bpf-vm/verifier/api.ts';
import { verifyProgram } from '../bpf-vm/verifier/index.ts';
import { asmXdp, u32Key, u64At } from './support/vm.ts';
import { TAILCALL_REJECTS } from './tailcall/cases.ts';

const DIR = fileURLToPath(new URL('./fixtures/tailcall/', import.meta.url));
const frame = (): Uint8Array => new Uint8Array(20);

/** Puts program `name` of the collection into slot `key` of PROG_ARRAY `map`; returns the update's result. */
function putProg(coll: Collection, map: string, key: number, name: string): number {
  const fd = coll.fds.programFd(coll.program(name));
  if (fd === undefined) throw new Error(`no fd for ${name}`);
  return coll.maps.get(map)!.update(u32Key(key), u32Key(fd));
}

function filled(): Collection {
  const coll = loadObjectFile(`${DIR}tail_calls.o`);
  for (const [k, n] of [[0, 'stage_pass'], [1, 'self_loop'], [2, 'stage_seven']] as const) {
    if (putProg(coll, 'jmp', k, n) !== 0) throw new Error(`update ${n}`);
  }
  return coll;
}

for (const engine of ENGINES) {
  test(`${engine}: a tail call runs the slot's program in place of the caller; an empty slot continues`, (t) => {
    const empty = loadObjectFile(`${DIR}tail_calls.o`);
    t.is(bpfProgTestRun(empty.program('entry'), { dataIn: frame(), engine }).retval, 100);
    const coll = filled();
    const r = bpfProgTestRun(coll.program('entry'), { dataIn: frame(), engine });
    t.is(r.retval, 2);
    t.is(toHex(r.dataOut), `aa${'00'.repeat(19)}`);
  });

  test(`${engine}: a chain makes at most 33 tail calls, then the call fails and execution continues`, (t) => {
    const coll = filled();
    const r = bpfProgTestRun(coll.program('self_loop'), { dataIn: frame(), engine });
    t.is(r.retval, 50);
    t.is(u64At(coll.maps.get('hops'), 0), 34n);
    // The count is per run.
    bpfProgTestRun(coll.program('self_loop'), { dataIn: frame(), engine, repeat: 2 });
    t.is(u64At(coll.maps.get('hops'), 0), 34n * 3n);
  });

  test(`${engine}: from a subprogram, the target's r0 returns to the subprogram's caller`, (t) => {
    const empty = loadObjectFile(`${DIR}tail_calls.o`);
    t.is(bpfProgTestRun(empty.program('via_subprog'), { dataIn: frame(), engine }).retval, 10);
    t.is(bpfProgTestRun(filled().program('via_subprog'), { dataIn: frame(), engine }).retval, 17);
  });

  test(`${engine}: a slot emptied by delete makes the call fail again`, (t) => {
    const coll = filled();
    t.is(coll.maps.get('jmp')!.delete(u32Key(0)), 0);
    t.is(coll.maps.get('jmp')!.delete(u32Key(0)), -2);
    t.is(bpfProgTestRun(coll.program('entry'), { dataIn: frame(), engine }).retval, 100);
  });
}

test('PROG_ARRAY updates: a program of another type is EINVAL, a bad fd EBADF, flags other than BPF_ANY EINVAL, past the end E2BIG', (t) => {
  const coll = loadObjectFile(`${DIR}tail_mixed.o`);
  const m = coll.maps.get('progs')!;
  t.is(putProg(coll, 'progs', 0, 'tc_other'), -22);
  t.is(putProg(coll, 'progs', 0, 'xdp_drop'), 0);
  t.is(m.update(u32Key(1), u32Key(999)), -9);
  t.is(m.update(u32Key(1), u32Key(coll.fds.programFd(coll.program('xdp_drop'))!), 2), -22);
  t.is(putProg(coll, 'progs', 2, 'xdp_drop'), -7);
  t.deepEqual(m.lookup(u32Key(0)), u32Key(coll.fds.programFd(coll.program('xdp_drop'))!));
  t.is(m.lookup(u32Key(1)), undefined);
  for (const engine of ENGINES) t.is(bpfProgTestRun(coll.program('xdp_dispatch'), { dataIn: frame(), engine }).retval, 1);
});

test('PROG_ARRAY creation: 4-byte keys and values, max_entries > 0', (t) => {
  const spec = { name: 'p', type: BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4, flags: 0 };
  t.true(createMap(spec) instanceof ProgArrayMap);
  for (const bad of [{ valueSize: 8 }, { keySize: 8 }, { maxEntries: 0 }, { flags: 128 }]) {
    const e = t.throws(() => createMap({ ...spec, ...bad }));
    t.true(e instanceof BpfError && e.code === 'EINVAL', JSON.stringify(bad));
  }
});

for (const c of TAILCALL_REJECTS) {
  test(`verifier rejects ${c.name}`, (t) => {
    const jmp = createMap({ name: 'jmp', type: BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4, flags: 0 });
    const arr = createMap({ name: 'arr', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0 });
    const rb = createMap({ name: 'rb', type: BPF_MAP_TYPE.BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0 });
    const e = t.throws(() => verifyProgram(asmXdp(c.asm, { jmp, arr, rb }), { logLevel: 1 }));
    t.true(e instanceof VerifierError);
    const v = e as VerifierError;
    t.true(v.message.includes(c.expect) || v.log.includes(c.expect), `${v.message}\n${v.log.split('\n').slice(-6).join('\n')}`);
  });
}

test('verifier rejects a subprogram that tail-calls on 256 bytes of its callers\' stack', (t) => {
  const e = t.throws(() => verifyProgram(loadObjectFile(`${DIR}tail_deep_stack.o`).program()));
  t.is(e?.message, 'tail_calls are not allowed when call stack of previous frames is 256 bytes. Too large');
});

test('the object\'s programs are accepted with the kernel\'s processed counts', (t) => {
  const coll = loadObjectFile(`${DIR}tail_calls.o`);
  const counts = ['entry', 'stage_pass', 'self_loop', 'stage_seven', 'via_subprog'].map((n) => verifyProgram(coll.program(n)).stats.processed);
  // bpftool prog loadall on Linux 6.18.
  t.deepEqual(counts, [5, 11, 16, 2, 11]);
});
