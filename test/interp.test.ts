// Engine behaviour beyond single-instruction semantics: the XDP context, faults, limits, helpers
// as programs see them. Every case runs on every engine.
import test from 'ava';
import { ENGINES } from '../bpf-vm/engines.ts';
import { InvalidProgramError, RuntimeFault } from '../bpf-vm/errors.ts';
import { createMap } from '../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE } from '../bpf-vm/maps/map.ts';
import { bpfProgTestRun } from '../bpf-vm/prog/test-run.ts';
import { XdpProgramRunner } from '../bpf-vm/prog/xdp-runner.ts';
import { udp64 } from './support/packets.ts';
import { asmXdp, u32Key, u64At } from './support/vm.ts';

const frame = udp64();
const array = (entries = 4, valueSize = 8) => createMap({ name: 'a', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize, maxEntries: entries, flags: 0 });

for (const engine of ENGINES) {
  // Unverified on purpose: these cases test the engine's own guard, the bounds checks.
  const run = (src: string, maps = {}, dataIn = frame, repeat = 1) => bpfProgTestRun(asmXdp(src, maps), { dataIn, engine, repeat, verify: false });

  test(`${engine}: xdp_md fields: data_end - data is the frame length, ingress ifindex 1, queue 0`, (t) => {
    t.is(run('ldxw %r2, [%r1+0]\nldxw %r0, [%r1+4]\nsub %r0, %r2\nexit').retval, frame.length);
    t.is(run('ldxw %r0, [%r1+12]\nexit').retval, 1);
    t.is(run('ldxw %r0, [%r1+16]\nexit').retval, 0);
    t.is(run('ldxw %r2, [%r1+8]\nldxw %r0, [%r1+0]\nsub %r0, %r2\nexit').retval, 0, 'data_meta == data');
  });

  test(`${engine}: reading the packet through data and writing it`, (t) => {
    const r = run('ldxw %r2, [%r1+0]\nldxb %r0, [%r2+12]\nstb [%r2+0], 0xaa\nexit');
    t.is(r.retval, frame[12]!);
    t.is(r.dataOut[0], 0xaa);
  });

  test(`${engine}: a read past data_end faults with pc, register, the address accessed (r2 + 60) and size`, (t) => {
    const e = t.throws(() => run(`ldxw %r2, [%r1+0]\nldxb %r0, [%r2+${frame.length}]\nexit`), { instanceOf: RuntimeFault });
    t.regex(e!.message, /^pc 1: invalid memory access: read of 1 bytes at r2\+60 = 0xffff00010000013c \(packet, valid 256\.\.316\)/);
  });

  test(`${engine}: reading the headroom before data faults`, (t) => {
    t.throws(() => run('ldxw %r2, [%r1+0]\nldxb %r0, [%r2-1]\nexit'), { instanceOf: RuntimeFault, message: /invalid memory access/ });
  });

  test(`${engine}: the context is read-only and only 4-byte loads of its fields are valid`, (t) => {
    t.throws(() => run("stw [%r1+0], 1\nmov %r0, 0\nexit"), { instanceOf: RuntimeFault, message: /the context is read-only/ });
    t.throws(() => run('ldxdw %r0, [%r1+0]\nexit'), { instanceOf: RuntimeFault, message: /invalid bpf_context access off=0 size=8/ });
    t.throws(() => run('ldxw %r0, [%r1+24]\nexit'), { instanceOf: RuntimeFault, message: /invalid bpf_context access off=24 size=4/ });
  });

  test(`${engine}: a scalar is never dereferenced`, (t) => {
    t.throws(() => run('mov %r1, 4096\nldxw %r0, [%r1+0]\nexit'), { instanceOf: RuntimeFault, message: /invalid memory access: read of 4 bytes at r1\+0 = 0x0000000000001000/ });
  });

  test(`${engine}: stack below the frame faults, within it works`, (t) => {
    t.is(run('stdw [%r10-512], 9\nldxdw %r0, [%r10-512]\nexit').retval, 9);
    // The frame of the entry function is the top of the stack: nothing above r10.
    t.throws(() => run('ldxw %r0, [%r10+0]\nexit'), { instanceOf: RuntimeFault, message: /stack/ });
  });

  test(`${engine}: an infinite loop stops at the instruction budget`, (t) => {
    const prog = asmXdp('mov %r0, 0\nl:\nadd %r0, 1\nja l\nexit');
    const runner = new XdpProgramRunner(prog, { engine, budget: 10_000, verify: false });
    runner.xdp.prepare(new Uint8Array(4096), 0, 4096, 256, 64);
    const e = t.throws(() => runner.run(), { instanceOf: RuntimeFault });
    t.is(e!.code, 'ELIMIT');
    t.regex(e!.message, /instruction budget/);
  });

  test(`${engine}: bpf-to-bpf calls get their own 512-byte frame and keep r6-r9`, (t) => {
    const src = [
      'mov %r6, 7', 'stdw [%r10-8], 1', 'call local f', 'ldxdw %r1, [%r10-8]', 'add %r0, %r1', 'add %r0, %r6', 'exit',
      'f:', 'mov %r6, 100', 'stdw [%r10-8], 50', 'ldxdw %r0, [%r10-8]', 'exit',
    ].join('\n');
    t.is(run(src).retval, 50 + 1 + 7);
  });

  test(`${engine}: call depth is limited to 8 frames`, (t) => {
    const chain = (n: number) => Array.from({ length: n }, (_, i) => `f${i}:\ncall local f${i + 1}\nexit`).join('\n') + `\nf${n}:\nmov %r0, 1\nexit`;
    t.is(run(`call local f0\nexit\n${chain(6)}`).retval, 1, '8 frames deep is fine');
    t.throws(() => run(`call local f0\nexit\n${chain(7)}`), { instanceOf: RuntimeFault, message: /call depth/ });
  });

  test(`${engine}: map lookup returns a value pointer the program can update atomically, or NULL`, (t) => {
    const a = array();
    const src = [
      'stw [%r10-4], 2', 'mov %r2, %r10', 'add %r2, -4', 'lddw %r1, map_by_fd(a)', 'call 1',
      'jeq %r0, 0, miss', 'mov %r1, 5', 'lock add [%r0+0], %r1', 'mov %r0, 2', 'exit', 'miss:', 'mov %r0, 1', 'exit',
    ].join('\n');
    t.is(run(src, { a }, frame, 3).retval, 2);
    t.is(u64At(a, 2), 15n);
    t.is(run(src.replace('stw [%r10-4], 2', 'stw [%r10-4], 4'), { a }).retval, 1, 'index 4 of 4 misses');
  });

  test(`${engine}: a write past a map value's storage faults; a read-only map cannot be written`, (t) => {
    const a = array(1, 8);
    const src = 'stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map_by_fd(a)\ncall 1\njeq %r0, 0, out\nstdw [%r0+8], 1\nout:\nmov %r0, 0\nexit';
    t.throws(() => run(src, { a }), { instanceOf: RuntimeFault, message: /write of 8 bytes/ });
    const ro = createMap({ name: 'ro', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0x80 });
    t.throws(() => run(src.replace('map_by_fd(a)', 'map_by_fd(ro)').replace('[%r0+8]', '[%r0+0]'), { ro }), { instanceOf: RuntimeFault, message: /read-only/ });
  });

  test(`${engine}: map_update_elem and map_delete_elem return the kernel's errors`, (t) => {
    const a = array(2);
    const upd = (key: number, flags: number) => run(`stw [%r10-4], ${key}\nstdw [%r10-16], 42\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, ${flags}\nlddw %r1, map_by_fd(a)\ncall 2\nexit`, { a }).retval | 0;
    t.is(upd(1, 0), 0);
    t.is(u64At(a, 1), 42n);
    t.is(upd(1, 1), -17, 'BPF_NOEXIST on an array: -EEXIST');
    t.is(upd(5, 0), -7, 'out of range: -E2BIG');
    t.is(upd(0, 4), -22, 'unknown flag: -EINVAL');
    const del = run('stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map_by_fd(a)\ncall 3\nexit', { a }).retval | 0;
    t.is(del, -22, 'array elements cannot be deleted: -EINVAL');
  });

  test(`${engine}: adjust_head grows into the headroom and shrinks, within the kernel's limits`, (t) => {
    const grow = run('mov %r2, -20\ncall 44\nmov %r6, %r0\nldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nsub %r3, %r2\nlsh %r6, 16\nor %r3, %r6\nmov %r0, %r3\nexit'.replace('ldxw %r2, [%r1+0]', 'mov %r1, %r1\nldxw %r2, [%r1+0]'), {}, frame);
    t.is(grow.retval, frame.length + 20);
    t.is(grow.dataOut.length, frame.length + 20);
    t.deepEqual(grow.dataOut.subarray(20), frame);
    // 256 bytes of headroom, 40 kept for struct xdp_frame: -216 is the most it may grow.
    t.is(run('mov %r6, %r1\nmov %r2, -216\ncall 44\nexit').retval, 0);
    t.is(run('mov %r2, -217\ncall 44\nexit').retval | 0, -22);
    // It may not shrink the frame below an Ethernet header.
    t.is(run(`mov %r2, ${frame.length - 14}\ncall 44\nexit`).retval, 0);
    t.is(run(`mov %r2, ${frame.length - 13}\ncall 44\nexit`).retval | 0, -22);
  });

  test(`${engine}: adjust_tail trims and grows (zero-filled) up to the frame's end`, (t) => {
    const trim = run('mov %r2, -10\ncall 65\nexit');
    t.is(trim.retval, 0);
    t.deepEqual(trim.dataOut, frame.subarray(0, frame.length - 10));
    const growBy = 4096 - 320 - 256 - frame.length;
    const grow = run(`mov %r2, ${growBy}\ncall 65\nexit`);
    t.is(grow.retval, 0);
    t.is(grow.dataOut.length, frame.length + growBy);
    t.true(grow.dataOut.subarray(frame.length).every((b) => b === 0));
    t.is(run(`mov %r2, ${growBy + 1}\ncall 65\nexit`).retval | 0, -22);
    t.is(run(`mov %r2, ${-(frame.length - 13)}\ncall 65\nexit`).retval | 0, -22);
  });

  test(`${engine}: adjust_meta reserves metadata before data, multiples of 4 up to 32 bytes`, (t) => {
    const r = run('mov %r6, %r1\nmov %r2, -8\ncall 54\njne %r0, 0, out\nldxw %r2, [%r6+8]\nldxw %r3, [%r6+0]\nmov %r4, %r2\nadd %r4, 8\njgt %r4, %r3, out\nstw [%r2+0], 0x11223344\nout:\nexit');
    t.is(r.retval, 0);
    t.is(r.dataOut.length, frame.length + 8, 'data_out starts at data_meta');
    t.deepEqual([...r.dataOut.subarray(0, 4)], [0x44, 0x33, 0x22, 0x11]);
    t.is(run('mov %r2, -6\ncall 54\nexit').retval | 0, -13, 'not a multiple of 4: -EACCES');
    t.is(run('mov %r2, -36\ncall 54\nexit').retval, 0, 'up to 252 bytes of metadata (meta_len is a u8)');
    t.is(run('mov %r2, 4\ncall 54\nexit').retval | 0, -22, 'meta after data: -EINVAL');
  });

  test(`${engine}: redirect records the target; flags make it abort`, (t) => {
    const r = run('mov %r1, 9\nmov %r2, 0\ncall 23\nexit');
    t.is(r.retval, 4);
    t.is(r.redirect?.ifindex, 9);
    t.is(run('mov %r1, 9\nmov %r2, 1\ncall 23\nexit').retval, 0);
  });

  test(`${engine}: redirect_map returns the flags' action on a miss and redirects on a hit`, (t) => {
    const dev = createMap({ name: 'dev', type: BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP, keySize: 4, valueSize: 4, maxEntries: 4, flags: 0 });
    const src = (key: number, flags: number) => `lddw %r1, map_by_fd(dev)\nmov %r2, ${key}\nmov %r3, ${flags}\ncall 51\nexit`;
    t.is(run(src(1, 2), { dev }).retval, 2, 'miss with flags XDP_PASS');
    t.is(dev.update(u32Key(1), u32Key(12)), 0);
    const hit = run(src(1, 2), { dev });
    t.is(hit.retval, 4);
    t.is(hit.redirect?.ifindex, 12);
    t.is(run(src(1, 0x40), { dev }).retval, 0, 'unknown flag: XDP_ABORTED');
  });

  test(`${engine}: helpers the program type does not have are refused at load`, (t) => {
    t.throws(() => run('call 40\nexit'), { instanceOf: InvalidProgramError, message: /program of this type cannot use helper bpf_csum_update#40/ });
    t.throws(() => run('call 9999\nexit'), { instanceOf: InvalidProgramError, message: /invalid func unknown#9999/ });
  });

  test(`${engine}: a map fd that names nothing is refused at load`, (t) => {
    t.throws(() => run('lddw %r1, map_by_fd(7)\nmov %r0, 0\nexit'), { instanceOf: InvalidProgramError, message: /fd 7 is not pointing to valid bpf_map/ });
  });

  test(`${engine}: global data through BPF_PSEUDO_MAP_VALUE points into element 0`, (t) => {
    const data = createMap({ name: '.data', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 16, maxEntries: 1, flags: 0, initialValue: new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]) });
    t.is(run('lddw %r1, map_val(map_by_fd(d)) + 8\nldxdw %r0, [%r1+0]\nexit', { d: data }).retval, 5);
    t.throws(() => run('lddw %r1, map_val(map_by_fd(d)) + 16\nmov %r0, 0\nexit', { d: data }), { instanceOf: InvalidProgramError });
  });
}
