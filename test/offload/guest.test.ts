// The guest side (guest/bpf) over a real control virtqueue to the host device: offloaded maps,
// program load with the setup() hook, attach modes and their conflicts, the feature bit, and
// device errnos surfacing as typed errors.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { assemble, BPF_MAP_TYPE, decodeInsns, parseElf, type Insn } from '../../bpf-vm/index.ts';
import {
  allocSplitRing, DriverQueue, ebpfCmd, FeatureSet, GuestMemory, PageAllocator, SplitRing, VIRTIO_NET_F,
} from '../../virtio/index.ts';
import {
  BPF_NETDEV_COMMAND, CtrlVqChannel, GuestBpfError, sendEbpfCommand, VirtnetBoundProg, VirtnetMap, XDP_FLAGS,
} from '../../guest/bpf/index.ts';
import { FIXTURES, OFFLOAD_FEATURES, u32, u64, world, XDP, XDP_DIR } from './support.ts';

const HW = XDP_FLAGS.XDP_FLAGS_HW_MODE;
const DRV = XDP_FLAGS.XDP_FLAGS_DRV_MODE;
const HASH = BPF_MAP_TYPE.BPF_MAP_TYPE_HASH;
const ARRAY = BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY;

function code(t: { throws: (fn: () => unknown, e: { instanceOf: typeof GuestBpfError }) => GuestBpfError | undefined }, fn: () => unknown): string | undefined {
  return t.throws(fn, { instanceOf: GuestBpfError })?.code;
}

test('an offloaded map: CREATE on the host, every operation a MAP command, host errnos typed', (t) => {
  const w = world();
  const fd = w.bpf.mapCreate({ mapType: HASH, keySize: 4, valueSize: 8, maxEntries: 2, mapName: 'flows', mapIfindex: w.ifindex });
  t.is(w.link.stats.ebpf, 1);
  const m = w.bpf.map(fd);
  t.true(m.devPriv instanceof VirtnetMap);
  const handle = (m.devPriv as VirtnetMap).ref.handle;
  t.like(w.host.show().maps[0], { handle, name: 'flows', typeName: 'hash' });

  w.bpf.mapUpdateElem(fd, u32(1), u64(10));
  w.bpf.mapUpdateElem(fd, u32(2), u64(20));
  t.deepEqual(w.bpf.mapLookupElem(fd, u32(2)), u64(20));
  t.deepEqual(w.host.hostMap(handle)!.map.lookup(u32(1)), u64(10), 'the value is on the host');
  const e = t.throws(() => w.bpf.mapUpdateElem(fd, u32(3), u64(30)), { instanceOf: GuestBpfError })!;
  t.is(e.code, 'E2BIG', 'full, as the host map says');
  t.is(e.source, 'device');
  t.is(e.errno, 7);
  t.is(code(t, () => w.bpf.mapUpdateElem(fd, u32(1), u64(1), 1)), 'EEXIST');
  t.is(code(t, () => w.bpf.mapLookupElem(fd, u32(9))), 'ENOENT');
  const keys = [w.bpf.mapGetNextKey(fd)];
  keys.push(w.bpf.mapGetNextKey(fd, keys[0]));
  t.is(code(t, () => w.bpf.mapGetNextKey(fd, keys[1])), 'ENOENT');
  t.deepEqual(keys.map((k) => k.join()).sort(), [u32(1).join(), u32(2).join()]);
  w.bpf.mapDeleteElem(fd, u32(1));
  t.is(code(t, () => w.bpf.mapDeleteElem(fd, u32(1))), 'ENOENT');
  t.deepEqual(w.bpf.mapDump(fd), [{ key: u32(2), value: u64(20) }]);
  const sent = w.link.stats.ebpf;
  t.is(code(t, () => w.bpf.mapLookupElem(fd, new Uint8Array(8))), 'EINVAL', 'wrong key size: the guest refuses');
  t.is(code(t, () => w.bpf.mapUpdateElem(fd, u32(1), u64(1).subarray(0, 4))), 'EINVAL');
  t.is(w.link.stats.ebpf, sent, 'nothing sent for those');
  w.bpf.close(fd);
  t.deepEqual(w.host.show().maps, [], 'closing the last fd sends FREE');
  t.is(w.host.stats.internal_errors, 0);
});

test('only ARRAY and HASH can be offloaded: EINVAL before anything is sent', (t) => {
  const w = world();
  for (const type of [BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP]) {
    const e = t.throws(() => w.bpf.mapCreate({ mapType: type, keySize: 4, valueSize: 8, maxEntries: 4, mapIfindex: w.ifindex }), { instanceOf: GuestBpfError })!;
    t.is(e.code, 'EINVAL');
    t.is(e.source, 'guest');
  }
  t.is(w.link.stats.chains, 0);
  t.is(code(t, () => w.bpf.mapCreate({ mapType: ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, mapIfindex: 99 })), 'EINVAL', 'no such device');
  const host = t.throws(() => w.bpf.mapCreate({ mapType: ARRAY, keySize: 8, valueSize: 8, maxEntries: 4, mapIfindex: w.ifindex }), { instanceOf: GuestBpfError })!;
  t.is(host.code, 'EINVAL');
  t.is(host.source, 'device', 'the device checks the sizes');
  t.regex(host.message, /key_size 8/);
});

test('no offload feature offered: offload refused cleanly with EOPNOTSUPP, native XDP still works', (t) => {
  const w = world({ features: FeatureSet.of(VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ) });
  t.false(w.netdev.canOffload);
  t.is(w.netdev.offloadOps, undefined);
  t.is(code(t, () => w.bpf.mapCreate({ mapType: ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, mapIfindex: w.ifindex })), 'EOPNOTSUPP');
  t.is(code(t, () => w.bpf.progLoad({ progType: XDP, insns: assemble('mov %r0, 2\nexit'), progIfindex: w.ifindex })), 'EOPNOTSUPP');
  t.is(code(t, () => w.bpf.loadObjectForOffload(`${XDP_DIR}xdp1.o`, w.ifindex)), 'EOPNOTSUPP');
  t.is(code(t, () => w.netdev.ndoBpf({ command: BPF_NETDEV_COMMAND.XDP_SETUP_PROG_HW, prog: null, flags: HW })), 'EOPNOTSUPP');
  t.is(w.link.stats.chains, 0, 'nothing reached the device');
  const o = w.bpf.loadObject(`${XDP_DIR}xdp1.o`);
  w.bpf.xdpAttach(w.ifindex, o.progFd, DRV);
  t.is(w.native.prog?.name, 'xdp1');
  // Without the control queue there is no offload either.
  t.false(world({ features: FeatureSet.of(47) }).netdev.canOffload);
  // The metadata bit alone does not offload; offload without metadata sends none.
  const noMeta = world({ features: FeatureSet.of(VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ, 47) });
  t.true(noMeta.netdev.canOffload);
  t.false(noMeta.netdev.metadata);
  const p = noMeta.bpf.loadObjectForOffload(`${XDP_DIR}xdp1.o`, noMeta.ifindex);
  noMeta.bpf.xdpAttach(noMeta.ifindex, p.progFd, HW);
  t.like(noMeta.host.show().program, { name: '', tag: p.prog.tag });
  t.is(noMeta.host.show().maps[0]!.name, '');
});

test('program load for offload: setup() copies the insns with host handles, the guest keeps fds', (t) => {
  const w = world();
  const o = w.bpf.loadObjectForOffload(`${XDP_DIR}xdp1.o`, w.ifindex);
  const fd = o.maps.get('rxcnt')!;
  const handle = (w.bpf.map(fd).devPriv as VirtnetMap).ref.handle;
  t.not(fd, handle, 'guest fd and host handle differ, so a rewrite is visible');
  const bound = o.prog.devPriv;
  if (!(bound instanceof VirtnetBoundProg)) return t.fail('no bound copy');
  const copy = decodeInsns(bound.insns);
  const refs = o.prog.insns.flatMap((ins, pc) => (ins.code === 0x18 && ins.src === 1 ? [pc] : []));
  t.true(refs.length > 0);
  for (const pc of refs) {
    t.is(o.prog.insns[pc]!.imm, fd);
    t.is(copy[pc]!.imm, handle);
  }
  t.deepEqual(bound.handles, [handle]);
  t.is(w.link.stats.ebpf, 1, 'only CREATE so far: loading sends nothing');
  w.bpf.xdpAttach(w.ifindex, o.progFd, HW);
  t.is(w.link.stats.ebpf, 2);
  t.deepEqual(w.events, [`attach xdp1 ${o.prog.tag}`], 'host tag of the rewritten copy = guest tag of the original');
  t.like(w.host.show().program, { name: 'xdp1', tag: o.prog.tag, insnCount: o.prog.insns.length, gplCompatible: true });
  t.like(w.host.show().maps[0], { name: 'rxcnt', keyType: '__u32', valueType: '__u64' });
});

test('plain 64-bit constants stay untouched; map-value references get handles with their offset', (t) => {
  const w = world();
  const fd = w.bpf.mapCreate({ mapType: ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, mapName: 'm', mapIfindex: w.ifindex });
  const handle = (w.bpf.map(fd).devPriv as VirtnetMap).ref.handle;
  // The RFC matched every ld_imm64: a constant equal to the map fd would have become the handle.
  const insns: Insn[] = assemble(`
    lddw %r3, ${fd}
    lddw %r4, 0x${fd.toString(16)}00000000
    lddw %r1, map_val(map_by_fd(m)) + 4
    stw [%r1+0], 1
    mov %r0, 2
    exit`, { mapId: () => fd });
  const pfd = w.bpf.progLoad({ progType: XDP, insns, progIfindex: w.ifindex, progName: 'consts', license: 'GPL' });
  const copy = decodeInsns((w.bpf.prog(pfd).devPriv as VirtnetBoundProg).insns);
  t.deepEqual([copy[0]!.src, copy[0]!.imm, copy[1]!.imm], [0, fd, 0]);
  t.deepEqual([copy[2]!.imm, copy[3]!.imm], [0, fd]);
  t.deepEqual([copy[4]!.src, copy[4]!.imm, copy[5]!.imm], [2, handle, 4], 'map value: handle, offset kept');
  w.bpf.xdpAttach(w.ifindex, pfd, HW);
  t.is(w.tap.prog?.maps.length, 1);
  // The object with a HASH map, a .bss global (map value) and a constant: same story.
  const mix = w.bpf.loadObjectForOffload(`${FIXTURES}offload_mix.o`, w.ifindex);
  const mixCopy = decodeInsns((mix.prog.devPriv as VirtnetBoundProg).insns);
  mix.prog.insns.forEach((ins, pc) => {
    if (ins.code === 0x18 && ins.src === 0) t.deepEqual([mixCopy[pc], mixCopy[pc + 1]], [ins, mix.prog.insns[pc + 1]], `constant at ${pc}`);
  });
  t.true(mix.prog.insns.some((ins) => ins.code === 0x18 && ins.src === 0 && ins.imm === 0x33221100));
});

test('the setup() hook refuses helpers outside the allow list, naming helper and instruction', (t) => {
  const w = world();
  for (const [program, helper] of [['xdp_fib', 'bpf_fib_lookup#69'], ['xdp_numa', 'bpf_get_numa_node_id#42']] as const) {
    const before = w.link.stats.ebpf;
    const e = t.throws(() => w.bpf.loadObjectForOffload(`${FIXTURES}disallowed.o`, w.ifindex, { program }), { instanceOf: GuestBpfError })!;
    t.is(e.code, 'EOPNOTSUPP');
    t.is(e.source, 'guest');
    t.true(e.message.includes(helper), e.message);
    t.true(e.insn !== undefined && e.message.includes(`insn ${e.insn}`));
    const { insns } = parseElf(readFileSync(`${FIXTURES}disallowed.o`)).programs.find((p) => p.name === program)!;
    t.like(insns[e.insn!], { code: 0x85, src: 0 });
    t.is(w.link.stats.ebpf - before, 2, 'the map was created, then freed when the load failed; no program sent');
  }
  t.deepEqual(w.host.show().maps, []);
  // The same program loads for the guest itself: only offload refuses the helper.
  t.notThrows(() => w.bpf.loadObject(`${FIXTURES}disallowed.o`, { program: 'xdp_numa' }));
});

test('the guest verifier verifies the original: a rejection is typed, logged, and nothing is sent', (t) => {
  const w = world();
  const e = t.throws(() => w.bpf.progLoad({ progType: XDP, insns: assemble('ldxw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit'), progIfindex: w.ifindex }), { instanceOf: GuestBpfError })!;
  t.is(e.code, 'EACCES');
  t.is(e.source, 'guest');
  t.regex(e.log ?? '', /invalid access to packet/);
  t.is(w.link.stats.chains, 0);
  t.is(code(t, () => w.bpf.progLoad({ progType: XDP, insns: assemble('lddw %r1, map_by_fd(x)\nmov %r0, 2\nexit', { mapId: () => 42 }), progIfindex: w.ifindex })), 'EBADF');
});

test('the host verifier\'s refusal comes back through the queue with its errno and log', (t) => {
  const w = world();
  const bad = new Uint8Array(new BigUint64Array([0x0000000000001261n, 0x0000000000002071n, 0x95n]).buffer);
  const e = t.throws(() => sendEbpfCommand(w.link.channel, ebpfCmd.setOffload({ insns: bad }), 'SET_OFFLOAD'), { instanceOf: GuestBpfError })!;
  t.is(e.code, 'EACCES');
  t.is(e.source, 'device');
  t.regex(e.log ?? '', /invalid access to packet[\s\S]*processed \d+ insns/);
  // A guest that skips its own filter: the device refuses the helper by name and instruction.
  const fib = new Uint8Array(new BigUint64Array([0x0000004500000085n, 0x00000002000000b7n, 0x95n]).buffer);
  const h = t.throws(() => sendEbpfCommand(w.link.channel, ebpfCmd.setOffload({ insns: fib }), 'SET_OFFLOAD'), { instanceOf: GuestBpfError })!;
  t.is(h.code, 'EOPNOTSUPP');
  t.regex(h.message, /insn 0: helper bpf_fib_lookup#69/);
  t.is(w.host.show().program, undefined);
});

test('one mode at a time: the RFC\'s EINVAL both ways; modes and flags checked', (t) => {
  const w = world();
  const native = w.bpf.loadObject(`${XDP_DIR}xdp1.o`);
  const off = w.bpf.loadObjectForOffload(`${XDP_DIR}xdp2.o`, w.ifindex);
  w.bpf.xdpAttach(w.ifindex, native.progFd, DRV);
  let e = t.throws(() => w.bpf.xdpAttach(w.ifindex, off.progFd, HW), { instanceOf: GuestBpfError })!;
  t.is(e.code, 'EINVAL');
  t.regex(e.message, /program already attached in driver mode/);
  t.is(w.host.show().program, undefined);
  w.bpf.xdpDetach(w.ifindex, DRV);
  t.is(w.native.prog, null);
  w.bpf.xdpAttach(w.ifindex, off.progFd, HW);
  e = t.throws(() => w.bpf.xdpAttach(w.ifindex, native.progFd, DRV), { instanceOf: GuestBpfError })!;
  t.is(e.code, 'EINVAL');
  t.regex(e.message, /program already attached in offload mode/);
  t.is(w.native.prog, null);
  t.is(code(t, () => w.bpf.xdpAttach(w.ifindex, off.progFd, DRV)), 'EINVAL', 'a device-bound program needs HW mode');
  t.is(code(t, () => w.bpf.xdpAttach(w.ifindex, native.progFd, HW)), 'EINVAL', 'HW mode needs a bound program');
  t.is(code(t, () => w.bpf.xdpAttach(w.ifindex, off.progFd, HW | XDP_FLAGS.XDP_FLAGS_UPDATE_IF_NOEXIST)), 'EBUSY');
  t.is(code(t, () => w.bpf.xdpAttach(w.ifindex, off.progFd, HW | DRV)), 'EINVAL');
  t.is(code(t, () => w.bpf.xdpAttach(w.ifindex, native.progFd, XDP_FLAGS.XDP_FLAGS_SKB_MODE)), 'EOPNOTSUPP');
  t.is(code(t, () => w.bpf.xdpAttach(w.ifindex, off.maps.get('rxcnt')!, HW)), 'EBADF');
  t.is(code(t, () => w.bpf.xdpAttach(77, off.progFd, HW)), 'EINVAL');
  // A program bound to another device.
  const other = world();
  const elsewhere = other.bpf.loadObjectForOffload(`${XDP_DIR}xdp1.o`, other.ifindex);
  t.is(code(t, () => w.netdev.ndoBpf({ command: BPF_NETDEV_COMMAND.XDP_SETUP_PROG_HW, prog: elsewhere.prog, flags: HW })), 'EINVAL');
  w.bpf.xdpDetach(w.ifindex, HW);
  t.deepEqual(w.events.slice(-1), ['detach']);
  t.deepEqual(w.bpf.xdpQuery(w.ifindex), { native: null, hw: null });
});

test('detach without attach sends nothing (the kernel\'s no-op); the device would answer ENOENT', (t) => {
  const w = world();
  w.bpf.xdpDetach(w.ifindex, HW);
  w.bpf.xdpDetach(w.ifindex, DRV);
  t.is(w.link.stats.chains, 0);
  const e = t.throws(() => sendEbpfCommand(w.link.channel, ebpfCmd.unsetOffload(), 'UNSET_OFFLOAD'), { instanceOf: GuestBpfError })!;
  t.is(e.code, 'ENOENT');
  t.is(e.source, 'device');
});

test('maps and programs must agree on the device', (t) => {
  const w = world();
  const offMap = w.bpf.mapCreate({ mapType: ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, mapName: 'm', mapIfindex: w.ifindex });
  const localMap = w.bpf.mapCreate({ mapType: ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, mapName: 'l' });
  const prog = (fd: number) => assemble(`stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map_by_fd(m)\ncall 1\nmov %r0, 2\nexit`, { mapId: () => fd });
  t.regex(t.throws(() => w.bpf.progLoad({ progType: XDP, insns: prog(offMap) }), { instanceOf: GuestBpfError })!.message, /offload device mismatch/);
  t.is(code(t, () => w.bpf.progLoad({ progType: XDP, insns: prog(localMap), progIfindex: w.ifindex })), 'EINVAL');
  t.notThrows(() => w.bpf.progLoad({ progType: XDP, insns: prog(localMap) }));
  t.notThrows(() => w.bpf.progLoad({ progType: XDP, insns: prog(offMap), progIfindex: w.ifindex }));
});

test('lifetimes: an attached program outlives its fd, its maps outlive theirs; freed at detach', (t) => {
  const w = world();
  const a = w.bpf.loadObjectForOffload(`${XDP_DIR}xdp1.o`, w.ifindex);
  const b = w.bpf.loadObjectForOffload(`${XDP_DIR}xdp2.o`, w.ifindex);
  w.bpf.xdpAttach(w.ifindex, a.progFd, HW);
  w.bpf.close(a.progFd);
  w.bpf.close(a.maps.get('rxcnt')!);
  t.is(w.host.show().maps.length, 2, 'held by the attached program');
  w.bpf.xdpAttach(w.ifindex, b.progFd, HW);
  t.deepEqual(w.events.map((e) => e.split(' ')[1]), ['xdp1', 'xdp2'], 'replaced without a detach');
  t.is(w.host.show().maps.length, 1, 'xdp1 gone with its map once replaced');
  w.bpf.xdpDetach(w.ifindex, HW);
  w.bpf.close(b.progFd);
  t.is(w.host.show().maps.length, 1, 'xdp2\'s map still has its fd');
  w.bpf.close(b.maps.get('rxcnt')!);
  t.deepEqual(w.host.show(), { program: undefined, maps: [], usage: { maps: 0, maxMaps: 64, bytes: 0, maxBytes: 64 << 20 } });
  t.deepEqual(w.bpf.freeErrors, []);
  t.is(code(t, () => w.bpf.close(a.progFd)), 'EBADF');
});

test('the device\'s limits reach the guest as errnos (ENOSPC for the map count)', (t) => {
  const w = world({ device: { maxMaps: 1 } });
  w.bpf.mapCreate({ mapType: ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, mapIfindex: w.ifindex });
  const e = t.throws(() => w.bpf.mapCreate({ mapType: ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, mapIfindex: w.ifindex }), { instanceOf: GuestBpfError })!;
  t.is(e.code, 'ENOSPC');
  t.is(e.source, 'device');
  t.is(OFFLOAD_FEATURES.has(47), true);
});

test('the control-queue channel: a 32 KiB program goes through one chain; a silent device is EIO', (t) => {
  const w = world();
  const insns = new Uint8Array(4096 * 8);
  const v = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  for (let o = 0; o < insns.length - 8; o += 8) v.setUint32(o, 0x000000b7, true); // mov r0, 0
  insns[insns.length - 8] = 0x95;
  t.notThrows(() => sendEbpfCommand(w.link.channel, ebpfCmd.setOffload({ insns }), 'SET_OFFLOAD'));
  t.is(w.host.show().program?.insnCount, 4096);
  t.is(w.link.stats.ebpf, 1);
  t.is(w.link.channel.send(9, 0, new Uint8Array(0), 0).ack, 1, 'a class the device loop does not know: ERR');

  const mem = GuestMemory.create(1 << 16);
  const pages = new PageAllocator(mem);
  const layout = allocSplitRing(mem, pages, 8);
  const silent = new CtrlVqChannel({ mem, pages, queue: new DriverQueue<number>(mem, new SplitRing(mem, layout), { name: 'ctrlq' }), pump: () => undefined });
  const e = t.throws(() => silent.send(6, 2, new Uint8Array(48), 264), { instanceOf: GuestBpfError })!;
  t.is(e.code, 'EIO');
  t.regex(e.message, /no answer/);
});
