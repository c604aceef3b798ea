// The device side (host/offload) driven through handle(): every command and sub-command, success
// and failure, limits, the allow list without the guest's filter, the host verifier's log, FREE
// while a program holds the map, handles vs host fds, reset, metadata and introspection.
import test from 'ava';
import { assemble, BPF_FUNC, BPF_MAP_TYPE, encodeInsns, FdTable, insn, type Insn } from '../../bpf-vm/index.ts';
import {
  decodeEbpfResult, EbpfCtrlDecodeError, ebpfCmd, ebpfProgTag, encodeEbpfMapCmd, encodeEbpfProgCmd, type EbpfCtrlRequest, type EbpfMapRef,
} from '../../virtio/index.ts';
import { formatOffloadShow, VirtioNetEbpf, type OffloadedProgram, type VirtioNetEbpfOptions } from '../../host/offload/index.ts';
import { u32, u64 } from './support.ts';

const ERRNO = { ENOENT: 2, E2BIG: 7, EBADF: 9, ENOMEM: 12, EACCES: 13, EFAULT: 14, EEXIST: 17, EINVAL: 22, ENOSPC: 28, EOPNOTSUPP: 95 } as const;
const ARRAY = BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY;
const HASH = BPF_MAP_TYPE.BPF_MAP_TYPE_HASH;

interface Answer { ok: boolean; errno: number; data: Uint8Array; text: string }

function send(dev: VirtioNetEbpf, req: EbpfCtrlRequest | { cmd: number; data: Uint8Array }, cap?: number): Answer {
  const out = dev.handle(req.cmd, req.data, cap);
  const r = decodeEbpfResult(out.result);
  if (r instanceof EbpfCtrlDecodeError) throw r;
  return { ok: out.ack === 0, errno: r.errno, data: r.data, text: new TextDecoder().decode(r.data) };
}

function device(opts: VirtioNetEbpfOptions = {}) {
  const events: string[] = [];
  const tap: { prog: OffloadedProgram | undefined } = { prog: undefined };
  const dev = new VirtioNetEbpf({
    ...opts,
    listener: opts.listener ?? {
      onAttach: (p) => { events.push(`attach ${p.tag}`); tap.prog = p; },
      onDetach: () => { events.push('detach'); tap.prog = undefined; },
    },
  });
  return { dev, events, tap };
}

function create(dev: VirtioNetEbpf, spec: Omit<EbpfMapRef, 'handle'>): EbpfMapRef {
  const a = send(dev, ebpfCmd.createMap(spec));
  if (!a.ok) throw new Error(`create failed: ${a.errno} ${a.text}`);
  return { ...spec, handle: new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength).getUint32(0, true) };
}

const arrayMap = { mapType: ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 };
const hashMap = { mapType: HASH, keySize: 4, valueSize: 8, maxEntries: 2 };

/** An XDP program counting into map `m` (by handle) at key 1. */
function counter(handle: number, extra = ''): Uint8Array {
  return encodeInsns(assemble(`
    stw [%r10-4], 1
    mov %r2, %r10
    add %r2, -4
    lddw %r1, map_by_fd(m)
    call 1
    jeq %r0, 0, out
    mov %r1, 1
    lock add [%r0+0], %r1
    out:
    ${extra}
    mov %r0, 2
    exit`, { mapId: () => handle }));
}

test('CREATE_MAP: opaque handles 1, 2, ...; the result carries the handle', (t) => {
  const { dev } = device();
  const a = send(dev, ebpfCmd.createMap(arrayMap));
  t.true(a.ok);
  t.is(a.errno, 0);
  t.deepEqual(a.data, u32(1));
  t.is(create(dev, hashMap).handle, 2);
  const s = dev.show();
  t.deepEqual(s.maps.map((m) => [m.handle, m.typeName, m.keySize, m.valueSize, m.maxEntries]), [[1, 'array', 4, 8, 4], [2, 'hash', 4, 8, 2]]);
  t.is(s.usage.maps, 2);
  t.true(s.usage.bytes > 0);
});

test('CREATE_MAP refusals: types, sizes, fields the device assigns, result room', (t) => {
  const { dev } = device();
  const errno = (req: EbpfCtrlRequest | { cmd: number; data: Uint8Array }, cap?: number) => send(dev, req, cap).errno;
  for (const type of [BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_HASH,
    BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY, 0, 99]) {
    t.is(errno(ebpfCmd.createMap({ ...arrayMap, mapType: type })), ERRNO.EINVAL, `type ${type}`);
  }
  t.is(errno(ebpfCmd.createMap({ ...arrayMap, keySize: 8 })), ERRNO.EINVAL, 'array keys are 4 bytes');
  t.is(errno(ebpfCmd.createMap({ ...arrayMap, maxEntries: 0 })), ERRNO.EINVAL);
  t.is(errno(ebpfCmd.createMap({ ...hashMap, valueSize: 0 })), ERRNO.EINVAL);
  t.is(errno(ebpfCmd.createMap({ ...hashMap, mapFlags: 1 << 20 })), ERRNO.EINVAL, 'unknown map_flags');
  t.is(errno({ cmd: 2, data: encodeEbpfMapCmd({ cmd: 1, ...arrayMap, mapFd: 5 }) }), ERRNO.EINVAL, 'map_fd is the device\'s to fill');
  t.is(errno({ cmd: 2, data: encodeEbpfMapCmd({ cmd: 1, ...arrayMap, flags: 1 }) }), ERRNO.EINVAL);
  t.is(errno(ebpfCmd.createMap(arrayMap), 11), ERRNO.ENOSPC, 'no room for the handle: refused before creating');
  t.is(dev.show().maps.length, 0, 'nothing was created by any refusal');
  t.is(dev.stats.internal_errors, 0);
});

test('limits: map count (ENOSPC), map memory (ENOMEM), one map too big (E2BIG or ENOMEM)', (t) => {
  const { dev } = device({ maxMaps: 2, maxMapBytes: 64 * 1024 });
  create(dev, arrayMap);
  create(dev, arrayMap);
  t.is(send(dev, ebpfCmd.createMap(arrayMap)).errno, ERRNO.ENOSPC);
  const d2 = device({ maxMapBytes: 64 * 1024 }).dev;
  create(d2, { ...arrayMap, valueSize: 1024, maxEntries: 32 }); // 32 KiB
  const over = send(d2, ebpfCmd.createMap({ ...arrayMap, valueSize: 1024, maxEntries: 64 }));
  t.is(over.errno, ERRNO.ENOMEM);
  t.regex(over.text, /budget|limit/);
  t.is(send(d2, ebpfCmd.createMap({ ...arrayMap, valueSize: 1 << 21 })).errno, ERRNO.E2BIG, 'value_size past what a map takes');
  t.is(d2.show().maps.length, 1);
});

test('UPDATE/LOOKUP/DELETE/GET_FIRST/GET_NEXT on a HASH map, with the kernel\'s errnos', (t) => {
  const { dev } = device();
  const m = create(dev, hashMap);
  t.is(send(dev, ebpfCmd.getFirst(m)).errno, ERRNO.ENOENT, 'empty');
  t.is(send(dev, ebpfCmd.lookupElem(m, u32(1))).errno, ERRNO.ENOENT);
  t.true(send(dev, ebpfCmd.updateElem(m, u32(1), u64(10))).ok);
  t.is(send(dev, ebpfCmd.updateElem(m, u32(1), u64(11), 1)).errno, ERRNO.EEXIST, 'BPF_NOEXIST on a present key');
  t.is(send(dev, ebpfCmd.updateElem(m, u32(2), u64(11), 2)).errno, ERRNO.ENOENT, 'BPF_EXIST on an absent key');
  t.true(send(dev, ebpfCmd.updateElem(m, u32(2), u64(20), 1)).ok);
  t.is(send(dev, ebpfCmd.updateElem(m, u32(3), u64(30))).errno, ERRNO.E2BIG, 'full (max_entries 2)');
  t.true(send(dev, ebpfCmd.updateElem(m, u32(1), u64(12), 2)).ok, 'BPF_EXIST on a present key');
  t.deepEqual(send(dev, ebpfCmd.lookupElem(m, u32(1))).data, u64(12));
  const first = send(dev, ebpfCmd.getFirst(m)).data;
  const second = send(dev, ebpfCmd.getNext(m, first)).data;
  t.deepEqual([first.join(), second.join()].sort(), [u32(1).join(), u32(2).join()]);
  t.is(send(dev, ebpfCmd.getNext(m, second)).errno, ERRNO.ENOENT, 'end of the walk');
  t.true(send(dev, ebpfCmd.deleteElem(m, u32(1))).ok);
  t.is(send(dev, ebpfCmd.deleteElem(m, u32(1))).errno, ERRNO.ENOENT);
  t.is(send(dev, ebpfCmd.updateElem(m, u32(5), u64(1), 4)).errno, ERRNO.EINVAL, 'unknown update flags');
  t.is(send(dev, { cmd: 2, data: encodeEbpfMapCmd({ cmd: 3, ...hashMap, mapFd: m.handle, flags: 1n << 40n }) }).errno, ERRNO.EINVAL);
  t.is(send(dev, { cmd: 2, data: encodeEbpfMapCmd({ cmd: 4, ...hashMap, mapFd: m.handle, flags: 1 }) }).errno, ERRNO.EINVAL, 'flags on LOOKUP');
  t.is(send(dev, ebpfCmd.lookupElem(m, u32(2)), 15).errno, ERRNO.ENOSPC, 'no room for the value');
  t.is(dev.stats.internal_errors, 0);
});

test('ARRAY map: every slot exists, NOEXIST is EEXIST, out of range E2BIG/ENOENT, DELETE EINVAL', (t) => {
  const { dev } = device();
  const m = create(dev, arrayMap);
  t.deepEqual(send(dev, ebpfCmd.lookupElem(m, u32(3))).data, u64(0));
  t.is(send(dev, ebpfCmd.lookupElem(m, u32(4))).errno, ERRNO.ENOENT);
  t.is(send(dev, ebpfCmd.updateElem(m, u32(0), u64(1), 1)).errno, ERRNO.EEXIST);
  t.is(send(dev, ebpfCmd.updateElem(m, u32(4), u64(1))).errno, ERRNO.E2BIG);
  t.is(send(dev, ebpfCmd.deleteElem(m, u32(0))).errno, ERRNO.EINVAL);
  t.deepEqual(send(dev, ebpfCmd.getFirst(m)).data, u32(0));
  t.deepEqual(send(dev, ebpfCmd.getNext(m, u32(2))).data, u32(3));
  t.is(send(dev, ebpfCmd.getNext(m, u32(3))).errno, ERRNO.ENOENT);
  t.deepEqual(send(dev, ebpfCmd.getNext(m, u32(99))).data, u32(0), 'an absent key restarts the walk');
});

test('malformed MAP commands: bad handle, header that does not match the map, lengths, sub-commands', (t) => {
  const { dev } = device();
  const m = create(dev, hashMap);
  const before = dev.show();
  t.is(send(dev, ebpfCmd.lookupElem({ ...m, handle: 77 }, u32(1))).errno, ERRNO.EBADF);
  t.is(send(dev, ebpfCmd.lookupElem({ ...m, handle: 0 }, u32(1))).errno, ERRNO.EBADF);
  t.is(send(dev, ebpfCmd.lookupElem({ ...m, keySize: 8 }, new Uint8Array(8))).errno, ERRNO.EINVAL, 'key_size differs from the map');
  t.is(send(dev, ebpfCmd.lookupElem({ ...m, valueSize: 4 }, u32(1))).errno, ERRNO.EINVAL, 'value_size differs');
  t.is(send(dev, ebpfCmd.lookupElem({ ...m, mapType: ARRAY }, u32(1))).errno, ERRNO.EINVAL, 'type differs');
  t.is(send(dev, ebpfCmd.lookupElem({ ...m, maxEntries: 3 }, u32(1))).errno, ERRNO.EINVAL, 'max_entries differs');
  const good = ebpfCmd.lookupElem(m, u32(1)).data;
  t.is(send(dev, { cmd: 2, data: good.subarray(0, 39) }).errno, ERRNO.EINVAL, 'short header');
  t.is(send(dev, { cmd: 2, data: good.subarray(0, good.length - 1) }).errno, ERRNO.EINVAL, 'buf shorter than buf_len');
  t.is(send(dev, { cmd: 2, data: new Uint8Array(0) }).errno, ERRNO.EINVAL);
  for (const sub of [0, 8, 9, 200]) {
    t.is(send(dev, { cmd: 2, data: encodeEbpfMapCmd({ cmd: sub, ...hashMap, mapFd: m.handle }) }).errno, ERRNO.EINVAL, `sub-command ${sub}`);
  }
  for (const cmd of [0, 3, 7, 255]) t.is(send(dev, { cmd, data: good }).errno, ERRNO.EOPNOTSUPP, `command ${cmd}`);
  t.deepEqual(dev.show(), before, 'nothing changed');
  t.is(dev.stats.internal_errors, 0);
});

test('FREE_MAP: the handle is gone and the memory uncharged', (t) => {
  const { dev } = device();
  const m = create(dev, hashMap);
  const bytes = dev.show().usage.bytes;
  t.true(bytes > 0);
  t.true(send(dev, ebpfCmd.freeMap(m)).ok);
  t.is(send(dev, ebpfCmd.lookupElem(m, u32(1))).errno, ERRNO.EBADF);
  t.is(send(dev, ebpfCmd.freeMap(m)).errno, ERRNO.EBADF, 'double free');
  t.deepEqual(dev.show().usage, { maps: 0, maxMaps: 64, bytes: 0, maxBytes: 64 << 20 });
  t.is(create(dev, hashMap).handle, 2, 'handles are not reused');
});

test('SET_OFFLOAD: handles resolved to host maps, verified, attached, shown; UNSET detaches', (t) => {
  const { dev, events, tap } = device();
  const m = create(dev, arrayMap);
  const insns = counter(m.handle);
  const a = send(dev, ebpfCmd.setOffload({ insns, gplCompatible: true }));
  t.true(a.ok, a.text);
  t.deepEqual(events, [`attach ${ebpfProgTag(insns)}`]);
  const p = tap.prog!;
  t.is(p.insnCount, insns.length / 8);
  t.deepEqual(p.maps.map((r) => r.handle), [m.handle]);
  t.is(p.program.fds.get(p.maps[0]!.fd), p.maps[0]!.map, 'the program resolves the host map');
  t.is(p.program.license, 'GPL');
  const s = dev.show();
  t.like(s.program, { tag: ebpfProgTag(insns), insnCount: insns.length / 8, mapHandles: [m.handle], queues: 'queue 0', gplCompatible: true });
  t.true(s.maps[0]!.usedByProgram);
  t.true(send(dev, ebpfCmd.unsetOffload()).ok);
  t.deepEqual(events.slice(1), ['detach']);
  t.is(dev.show().program, undefined);
  t.is(send(dev, ebpfCmd.unsetOffload()).errno, ERRNO.ENOENT, 'detach without attach');
});

test('SET_OFFLOAD twice replaces (one swap, no detach in between); a refused one keeps the old', (t) => {
  const { dev, events } = device();
  const m = create(dev, arrayMap);
  t.true(send(dev, ebpfCmd.setOffload({ insns: counter(m.handle) })).ok);
  t.true(send(dev, ebpfCmd.setOffload({ insns: counter(m.handle, 'mov %r3, 1') })).ok);
  t.is(events.length, 2);
  t.true(events.every((e) => e.startsWith('attach')));
  const tag = dev.show().program?.tag;
  t.false(send(dev, ebpfCmd.setOffload({ insns: counter(99) })).ok);
  t.is(dev.show().program?.tag, tag);
});

test('SET_OFFLOAD size limits: 4096 instructions pass, 4097 are E2BIG, none is EINVAL', (t) => {
  const { dev } = device();
  const body = (n: number): Uint8Array => encodeInsns([...Array.from({ length: n - 1 }, () => insn(0xb7, 0, 0, 0, 2)), insn(0x95)]);
  t.true(send(dev, ebpfCmd.setOffload({ insns: body(4096) })).ok);
  const big = send(dev, ebpfCmd.setOffload({ insns: body(4097) }));
  t.is(big.errno, ERRNO.E2BIG);
  t.regex(big.text, /4097 insns/);
  t.is(send(dev, ebpfCmd.setOffload({ insns: new Uint8Array(0) })).errno, ERRNO.EINVAL);
  t.is(send(device({ maxInsns: 16 }).dev, ebpfCmd.setOffload({ insns: body(17) })).errno, ERRNO.E2BIG, 'the limit is an option');
  t.is(send(dev, { cmd: 1, data: encodeEbpfProgCmd({ cmd: 1, gplCompatible: 2, insns: body(2) }) }).errno, ERRNO.EINVAL);
});

test('the device enforces the allow list itself: a guest that skips its filter is refused', (t) => {
  const { dev } = device();
  const m = create(dev, arrayMap);
  const calling = (helper: number) => counter(m.handle, `call ${helper}`);
  for (const [name, id] of [['fib_lookup', BPF_FUNC.fib_lookup], ['get_numa_node_id', BPF_FUNC.get_numa_node_id], ['redirect', BPF_FUNC.redirect],
    ['trace_printk', BPF_FUNC.trace_printk], ['get_smp_processor_id', BPF_FUNC.get_smp_processor_id], ['tail_call', BPF_FUNC.tail_call]] as const) {
    const a = send(dev, ebpfCmd.setOffload({ insns: calling(id) }));
    t.is(a.errno, ERRNO.EOPNOTSUPP, name);
    t.true(a.text.includes(`bpf_${name}#${id}`) && a.text.includes('insn 9'), a.text);
  }
  const kfunc = encodeInsns([insn(0x85, 0, 2, 0, 1234), insn(0xb7, 0, 0, 0, 2), insn(0x95)]);
  t.is(send(dev, ebpfCmd.setOffload({ insns: kfunc })).errno, ERRNO.EOPNOTSUPP);
  // Every allowed helper gets past the allow list (to the verifier, which accepts this one).
  const allowed = encodeInsns(assemble('call 5\ncall 7\nmov %r0, 2\nexit'));
  t.true(send(dev, ebpfCmd.setOffload({ insns: allowed })).ok);
  // A bpf-to-bpf call is not a helper call.
  const local = encodeInsns(assemble('call local f\nexit\nf:\nmov %r0, 2\nexit'));
  t.true(send(dev, ebpfCmd.setOffload({ insns: local })).ok);
  t.is(dev.stats.internal_errors, 0);
});

test('map references: unknown handle EBADF, other ld_imm64 kinds EINVAL, plain constants untouched', (t) => {
  const { dev, tap } = device();
  const m = create(dev, arrayMap);
  const a = send(dev, ebpfCmd.setOffload({ insns: counter(m.handle + 10) }));
  t.is(a.errno, ERRNO.EBADF);
  t.regex(a.text, /handle 11/);
  const func = encodeInsns([insn(0x18, 1, 4, 0, 0), insn(0), insn(0xb7, 0, 0, 0, 2), insn(0x95)]);
  t.is(send(dev, ebpfCmd.setOffload({ insns: func })).errno, ERRNO.EINVAL);
  // A 64-bit constant whose low half equals a live handle is not a map reference (src_reg 0).
  const withConst: Insn[] = assemble(`lddw %r3, ${m.handle}\nmov %r0, 2\nexit`);
  t.true(send(dev, ebpfCmd.setOffload({ insns: encodeInsns(withConst) })).ok);
  t.is(tap.prog!.program.insns[0]!.imm, m.handle);
  t.is(tap.prog!.maps.length, 0);
});

test('a program the host verifier rejects: EACCES and the log in the result, cut to the room', (t) => {
  const { dev } = device();
  const bad = encodeInsns(assemble('ldxw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit'));
  const a = send(dev, ebpfCmd.setOffload({ insns: bad }));
  t.is(a.errno, ERRNO.EACCES);
  t.regex(a.text, /invalid access to packet/);
  t.regex(a.text, /processed \d+ insns/);
  const small = dev.handle(1, ebpfCmd.setOffload({ insns: bad }).data, 40);
  const r = decodeEbpfResult(small.result);
  if (r instanceof EbpfCtrlDecodeError) return t.fail(r.message);
  t.true(r.truncated);
  t.is(r.data.length, 32);
  const uninit = encodeInsns(assemble('mov %r0, %r5\nexit'));
  t.is(send(dev, ebpfCmd.setOffload({ insns: uninit })).errno, ERRNO.EACCES);
  const jump = encodeInsns([insn(0x05, 0, 0, 5), insn(0x95)]);
  t.is(send(dev, ebpfCmd.setOffload({ insns: jump })).errno, ERRNO.EINVAL, 'structural: jump out of range');
  t.is(dev.show().program, undefined);
});

test('UNSET_OFFLOAD and PROG refusals: instructions on UNSET, unknown sub-commands, lengths', (t) => {
  const { dev } = device();
  t.is(send(dev, { cmd: 1, data: encodeEbpfProgCmd({ cmd: 2, insns: new Uint8Array(8) }) }).errno, ERRNO.EINVAL);
  for (const sub of [0, 3, 255]) t.is(send(dev, { cmd: 1, data: encodeEbpfProgCmd({ cmd: sub }) }).errno, ERRNO.EINVAL, `sub ${sub}`);
  t.is(send(dev, { cmd: 1, data: new Uint8Array(7) }).errno, ERRNO.EINVAL);
  const d = encodeEbpfProgCmd({ cmd: 1, insns: new Uint8Array(16) });
  t.is(send(dev, { cmd: 1, data: d.subarray(0, 20) }).errno, ERRNO.EINVAL);
});

test('FREE_MAP of a map the program uses: handle gone at once, map lives until detach', (t) => {
  const { dev, tap } = device();
  const m = create(dev, arrayMap);
  const other = create(dev, hashMap);
  t.true(send(dev, ebpfCmd.setOffload({ insns: counter(m.handle) })).ok);
  const prog = tap.prog!;
  t.true(send(dev, ebpfCmd.freeMap(m)).ok);
  t.is(send(dev, ebpfCmd.lookupElem(m, u32(1))).errno, ERRNO.EBADF);
  t.is(send(dev, ebpfCmd.setOffload({ insns: counter(m.handle) })).errno, ERRNO.EBADF, 'a freed handle cannot be referenced');
  let s = dev.show();
  t.deepEqual(s.maps.map((x) => [x.handle, x.orphan, x.usedByProgram]), [[other.handle, false, false], [m.handle, true, true]]);
  t.is(s.usage.maps, 2);
  const charged = s.usage.bytes;
  // The program still counts into the orphaned map.
  t.is(prog.maps[0]!.map.update(u32(1), u64(5)), 0);
  t.true(send(dev, ebpfCmd.unsetOffload()).ok);
  s = dev.show();
  t.deepEqual(s.maps.map((x) => x.handle), [other.handle]);
  t.true(s.usage.bytes < charged);
  t.is(s.usage.maps, 1);
});

test('exposeHostFds (the RFC): handles are host fds, shared with other devices of the process', (t) => {
  const hostFds = new FdTable();
  const a = device({ exposeHostFds: true, hostFds }).dev;
  const b = device({ exposeHostFds: true, hostFds }).dev;
  t.is(create(a, arrayMap).handle, 3);
  t.is(create(b, arrayMap).handle, 4, 'a guest learns how many fds the host process has');
  const m = create(a, hashMap);
  t.is(m.handle, 5);
  t.true(send(a, ebpfCmd.setOffload({ insns: counter(3) })).ok);
  t.is(send(b, ebpfCmd.lookupElem({ ...arrayMap, handle: 3 }, u32(0))).errno, ERRNO.EBADF, 'still per device');
  t.true(send(a, ebpfCmd.freeMap(m)).ok);
  t.is(hostFds.get(5), undefined, 'FREE closes the host fd');
  const opaque = device().dev;
  t.is(create(opaque, arrayMap).handle, 1);
});

test('reset: detach, every map freed, handles keep counting', (t) => {
  const { dev, events } = device();
  const m = create(dev, arrayMap);
  t.true(send(dev, ebpfCmd.setOffload({ insns: counter(m.handle) })).ok);
  dev.reset();
  t.deepEqual(events.slice(-1), ['detach']);
  t.deepEqual(dev.show().maps, []);
  t.is(dev.show().usage.bytes, 0);
  t.is(send(dev, ebpfCmd.lookupElem(m, u32(0))).errno, ERRNO.EBADF);
  t.is(create(dev, arrayMap).handle, 2);
  dev.reset();
  t.deepEqual(events.slice(-1), ['detach'], 'no detach when nothing was attached');
});

test('metadata: names and BTF types shown; tag checked; refused when the option is off', (t) => {
  const { dev } = device();
  const m = create(dev, arrayMap);
  const cr = ebpfCmd.createMap({ ...arrayMap, meta: { name: 'rxcnt', keyType: '__u32', valueType: '__u64' } });
  t.true(send(dev, cr).ok);
  const insns = counter(m.handle);
  t.true(send(dev, ebpfCmd.setOffload({ insns, meta: { name: 'xdp_count', tag: ebpfProgTag(insns), license: 'GPL' }, gplCompatible: true })).ok);
  const s = dev.show();
  t.is(s.program?.name, 'xdp_count');
  t.like(s.maps[1], { name: 'rxcnt', keyType: '__u32', valueType: '__u64' });
  const text = formatOffloadShow(s);
  t.regex(text, /xdp {2}name xdp_count {2}tag [0-9a-f]{16} {2}gpl/);
  t.regex(text, /array {2}name rxcnt {2}flags 0x0/);
  t.regex(text, /btf key __u32 {2}value __u64/);
  t.is(send(dev, ebpfCmd.setOffload({ insns, meta: { tag: '0000000000000000' } })).errno, ERRNO.EINVAL, 'a tag that does not match');
  t.is(send(dev, { cmd: 2, data: encodeEbpfMapCmd({ cmd: 2, ...arrayMap, mapFd: m.handle, meta: { name: 'x' } }) }).errno, ERRNO.EINVAL, 'metadata only on CREATE');
  const plain = device({ metadata: false }).dev;
  t.is(send(plain, cr).errno, ERRNO.EINVAL);
  t.is(send(plain, ebpfCmd.setOffload({ insns: counter(1), meta: { name: 'x' } })).errno, ERRNO.EINVAL);
});

test('show(): bpftool-like dump of the maps the program fills; allQueues carried to the listener', (t) => {
  const { dev, tap } = device({ allQueues: true });
  const m = create(dev, arrayMap);
  t.true(send(dev, ebpfCmd.updateElem(m, u32(2), u64(0x1234))).ok);
  t.true(send(dev, ebpfCmd.setOffload({ insns: counter(m.handle) })).ok);
  t.true(tap.prog!.allQueues);
  t.true(tap.prog!.transfer().allQueues);
  const s = dev.show();
  t.is(s.program?.queues, 'all');
  t.is(s.maps[0]!.entries?.length, 4);
  t.regex(formatOffloadShow(s, 'tap7'), /^tap7: xdp offload \(all\)/);
  t.regex(formatOffloadShow(s), /key: 02 00 00 00 {2}value: 34 12 00 00 00 00 00 00/);
  t.is(dev.show({ dump: false }).maps[0]!.entries, undefined);
  t.regex(formatOffloadShow(device().dev.show()), /no offloaded program/);
});

test('a listener that fails to attach: ERR, and the previous program stays', (t) => {
  let fail = false;
  const dev = new VirtioNetEbpf({ listener: { onAttach: () => { if (fail) throw new Error('tap gone'); }, onDetach: () => undefined } });
  const ok = encodeInsns(assemble('mov %r0, 2\nexit'));
  t.true(send(dev, ebpfCmd.setOffload({ insns: ok })).ok);
  fail = true;
  const a = send(dev, ebpfCmd.setOffload({ insns: encodeInsns(assemble('mov %r0, 1\nexit')) }));
  t.is(a.errno, ERRNO.EFAULT);
  t.regex(a.text, /tap gone/);
  t.is(dev.show().program?.tag, ebpfProgTag(ok));
});

test('odd result room (NaN, negative, fractional) is no room or rounded down, never a throw', (t) => {
  const { dev } = device();
  for (const cap of [NaN, -5, 3.7, -Infinity]) {
    const out = dev.handle(2, ebpfCmd.createMap(arrayMap).data, cap);
    t.is(out.ack, 1);
    t.is(out.result.length, 0);
  }
  const out = dev.handle(2, ebpfCmd.createMap(arrayMap).data, 12.9);
  t.is(out.ack, 0);
  t.is(out.result.length, 12);
  t.is(dev.stats.internal_errors, 0);
});

test('a listener that fails to detach: ERR, the program stays; reset still detaches', (t) => {
  let fail = true;
  const dev = new VirtioNetEbpf({ listener: { onAttach: () => undefined, onDetach: () => { if (fail) throw new Error('tap busy'); } } });
  t.true(send(dev, ebpfCmd.setOffload({ insns: encodeInsns(assemble('mov %r0, 2\nexit')) })).ok);
  const a = send(dev, ebpfCmd.unsetOffload());
  t.is(a.errno, ERRNO.EFAULT);
  t.not(dev.show().program, undefined);
  dev.reset();
  t.is(dev.show().program, undefined);
  t.regex(dev.lastError?.message ?? '', /reset/);
  fail = false;
  t.is(send(dev, ebpfCmd.unsetOffload()).errno, ERRNO.ENOENT);
});
