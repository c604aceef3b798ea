// The new map types and helpers from programs, on every engine: a clang-built program with
// PERCPU_HASH and LRU_PERCPU_HASH counters run on two CPUs, bpf_xdp_load_bytes/store_bytes and
// their errnos, and the clocks (bpf_jiffies64, bpf_ktime_get_boot_ns). The kernel's results for
// LPM_TRIE, LRU_HASH, DEVMAP_HASH and the packet-bytes helpers are in test/corpus/c/expected.json
// (lpm_route.o), which test/kernel-golden.test.ts checks on every engine.
import test from 'ava';
import { ENGINES } from '../bpf-vm/engines.ts';
import { toHex } from '../bpf-vm/hex.ts';
import { loadObjectFile } from '../bpf-vm/prog/collection.ts';
import { bpfProgTestRun } from '../bpf-vm/prog/test-run.ts';
import { XdpProgramRunner } from '../bpf-vm/prog/xdp-runner.ts';
import { createMap } from '../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE as T } from '../bpf-vm/maps/map.ts';
import { verifyProgram, VerifierError } from '../bpf-vm/verifier/index.ts';
import { ERRNO } from '../bpf-vm/errno.ts';
import { udp4Frame, tcp4Frame } from './support/packets.ts';
import { asmXdp, REPO_ROOT } from './support/vm.ts';

const FIX = `${REPO_ROOT}test/fixtures/maps/`;

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

function u64s(b: Uint8Array | undefined): bigint[] {
  if (b === undefined) return [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.length / 8 }, (_, i) => dv.getBigUint64(i * 8, true));
}

function ip(a: string): Uint8Array {
  return Uint8Array.from(a.split('.').map(Number));
}

for (const engine of ENGINES) {
  test(`${engine}: percpu_stats.o counts per CPU in PERCPU_HASH and LRU_PERCPU_HASH, without atomics`, (t) => {
    const coll = loadObjectFile(`${FIX}percpu_stats.o`);
    const prog = coll.program('percpu_stats');
    const v = verifyProgram(prog);
    const runners = [0, 1].map((cpu) => new XdpProgramRunner(prog, { engine, cpu, verify: v }));
    const frames: { cpu: number; frame: Uint8Array }[] = [];
    const udp = (src: string) => udp4Frame({ ip: { src }, payload: new Uint8Array(22) });
    for (let i = 0; i < 5; i++) frames.push({ cpu: 0, frame: udp('10.0.0.1') });
    for (let i = 0; i < 3; i++) frames.push({ cpu: 1, frame: udp('10.0.0.1') });
    frames.push({ cpu: 1, frame: tcp4Frame({ ip: { src: '10.0.0.2' } }) });
    const tails: bigint[] = [];
    for (const { cpu, frame } of frames) {
      const r = runners[cpu]!;
      const buf = new Uint8Array(4096);
      r.xdp.prepare(buf, 0, 4096, 256, frame.length);
      buf.set(frame, 256);
      t.is(r.run(), 2);
      // The CPU's count for the protocol, stored at the end of the frame from the map value.
      tails.push(new DataView(buf.buffer).getBigUint64(r.xdp.dataEnd - 8, true));
    }
    t.deepEqual(tails, [1n, 2n, 3n, 4n, 5n, 1n, 2n, 3n, 1n]);
    const pp = coll.maps.get('proto_pkts')!;
    t.deepEqual(u64s(pp.lookup(u32(17))), [5n, 3n], 'UDP: 5 on CPU 0, 3 on CPU 1');
    t.deepEqual(u64s(pp.lookup(u32(6))), [0n, 1n], 'TCP: created by CPU 1, zero on CPU 0');
    const sb = coll.maps.get('src_bytes')!;
    const len = BigInt(udp('10.0.0.1').length);
    t.deepEqual(u64s(sb.lookup(ip('10.0.0.1'))), [5n * len, 3n * len]);

    // Five more sources on CPU 0 in a 4-entry LRU. 10.0.0.1 was looked up by the program (its
    // reference bit is set), 10.0.0.2 never: the first eviction rotates .1 to the head and takes
    // .2, the next ones take .3 and .4; .1, unreferenced since, would be next.
    for (let s = 3; s <= 7; s++) {
      const f = udp(`10.0.0.${s}`);
      const r = runners[0]!;
      r.xdp.prepare(new Uint8Array(4096), 0, 4096, 256, f.length);
      r.xdp.buffer.set(f, 256);
      t.is(r.run(), 2);
    }
    const left = [...Array(8).keys()].filter((s) => sb.lookup(ip(`10.0.0.${s}`)) !== undefined);
    t.deepEqual(left, [1, 5, 6, 7]);

    // The clocks: jiffies (HZ 1000) are whole milliseconds of ktime; boot time >= monotonic.
    const [jiffies, ktime, boot] = u64s(Uint8Array.from([0, 1, 2].flatMap((i) => [...coll.maps.get('clocks')!.lookup(u32(i))!])));
    t.true(jiffies! > 0n && ktime! > 0n);
    t.true(jiffies! <= ktime! / 1_000_000n && ktime! / 1_000_000n - jiffies! < 1000n, `jiffies ${jiffies} vs ktime ${ktime}`);
    t.true(boot! >= ktime!);
  });

  const frame = udp4Frame({ payload: new Uint8Array(22) }); // 64 bytes
  const run = (src: string, maps = {}) => bpfProgTestRun(asmXdp(src, maps), { dataIn: frame, engine });

  test(`${engine}: bpf_xdp_load_bytes and bpf_xdp_store_bytes: copies, -EFAULT past 0xffff, -EINVAL past the frame`, (t) => {
    const call = (id: number, off: number, len: number) => [
      'mov %r1, %r6', `mov %r2, ${off}`, 'mov %r3, %r10', 'add %r3, -16', `mov %r4, ${len}`, `call ${id}`,
    ];
    const prog = (lines: string[]) => ['mov %r6, %r1', 'stdw [%r10-16], 0', 'stdw [%r10-8], 0', ...lines, 'exit'].join('\n');
    // Load the EtherType (0x0800 at 12) and return it.
    t.is(run(prog([...call(189, 12, 2), 'jne %r0, 0, +2', 'ldxh %r0, [%r10-16]', 'ja +0'])).retval, 0x0008);
    for (const [off, len, want] of [[0, 16, 0], [48, 16, 0], [49, 16, -ERRNO.EINVAL], [64, 1, -ERRNO.EINVAL], [0x10000, 1, -ERRNO.EFAULT], [0xffff, 1, -ERRNO.EINVAL]] as const) {
      t.is(run(prog(call(189, off, len))).retval, want >>> 0, `load ${off}+${len}`);
      t.is(run(prog(call(190, off, len))).retval, want >>> 0, `store ${off}+${len}`);
    }
    // Store 16 bytes of 0xab at 40, then read them back through the context's packet pointers.
    const r = run(prog([
      'lddw %r1, 0xabababababababab', 'stxdw [%r10-16], %r1', 'stxdw [%r10-8], %r1', ...call(190, 40, 16),
      'jne %r0, 0, +0',
    ]));
    t.is(r.retval, 0);
    t.is(toHex(r.dataOut.subarray(40, 56)), 'ab'.repeat(16));
    t.is(toHex(r.dataOut.subarray(0, 40)), toHex(frame.subarray(0, 40)));
  });

  test(`${engine}: bpf_xdp_store_bytes from a map value and bpf_xdp_load_bytes into one`, (t) => {
    const m = createMap({ name: 'v', type: T.BPF_MAP_TYPE_LRU_HASH, keySize: 4, valueSize: 8, maxEntries: 2, flags: 0 });
    t.is(m.update(u32(0), Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])), 0);
    const r = run([
      'mov %r6, %r1', 'stw [%r10-4], 0', 'mov %r2, %r10', 'add %r2, -4', 'lddw %r1, map_by_fd(v)', 'call 1',
      'jeq %r0, 0, +12', 'mov %r7, %r0',
      // value -> packet[0..8), then packet[12..20) -> value
      'mov %r1, %r6', 'mov %r2, 0', 'mov %r3, %r7', 'mov %r4, 8', 'call 190',
      'mov %r1, %r6', 'mov %r2, 12', 'mov %r3, %r7', 'mov %r4, 8', 'call 189',
      'ja +1', 'mov %r0, 99', 'exit',
    ].join('\n'), { v: m });
    t.is(r.retval, 0);
    t.is(toHex(r.dataOut.subarray(0, 8)), '0102030405060708');
    t.is(toHex(m.lookup(u32(0))!), toHex(frame.subarray(12, 20)));
  });

  test(`${engine}: bpf_jiffies64 counts milliseconds of bpf_ktime_get_ns; bpf_ktime_get_boot_ns is never behind it`, (t) => {
    const r = run([
      'call 118', 'mov %r6, %r0', 'call 5', 'mov %r7, %r0', 'call 125', 'mov %r8, %r0',
      // r0 = (boot >= ktime) + 2 * (jiffies <= ktime / 1e6) + 4 * (ktime / 1e6 - jiffies < 1000)
      'mov %r0, 0', 'jlt %r8, %r7, +1', 'or %r0, 1',
      'mov %r1, %r7', 'div %r1, 1000000', 'jgt %r6, %r1, +1', 'or %r0, 2',
      'sub %r1, %r6', 'jge %r1, 1000, +1', 'or %r0, 4', 'exit',
    ].join('\n'));
    t.is(r.retval, 7);
  });
}

test('the verifier checks the new helpers\' arguments as the kernel does', (t) => {
  const bad = (src: string, msg: RegExp) => {
    const e = t.throws(() => verifyProgram(asmXdp(src)), { instanceOf: VerifierError });
    t.regex(e?.message ?? '', msg);
  };
  // A zero length is refused (ARG_CONST_SIZE), as is a buffer past the stack, and a non-ctx r1.
  bad('mov %r6, %r1\nmov %r1, %r6\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 189\nexit', /R4 invalid zero-sized read/);
  bad('mov %r6, %r1\nmov %r1, %r6\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 16\ncall 189\nexit', /invalid (indirect access to|write to) stack|invalid stack/);
  bad('mov %r1, 0\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8\ncall 190\nexit', /R1 type=scalar expected=ctx/);
  // bpf_xdp_store_bytes reads its buffer: an uninitialised one is refused.
  bad('mov %r6, %r1\nmov %r1, %r6\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8\ncall 190\nexit', /invalid (indirect )?read from stack/);
  // Only XDP programs get them; every type gets the clocks.
  const tc = { ...asmXdp('call 189\nexit'), type: 3 as const };
  const e = t.throws(() => verifyProgram(tc as never), { instanceOf: VerifierError });
  t.regex(e?.message ?? '', /program of this type cannot use helper bpf_xdp_load_bytes#189/);
  for (const type of [1, 3]) {
    t.notThrows(() => verifyProgram({ ...asmXdp('call 118\ncall 125\nmov %r0, 0\nexit'), type } as never), `type ${type}`);
  }
});
