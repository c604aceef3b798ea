// The EBPF class's wire format (virtio/ctrl-ebpf.ts): payload layouts byte by byte, the result
// buffer, the metadata trailer, the builders, the tag, and decoders that turn every malformed
// input into a typed error value.
import test from 'ava';
import { pack } from 'msgpackr';
import {
  decodeEbpfMapCmd, decodeEbpfProgCmd, decodeEbpfResult, EbpfCtrlDecodeError, ebpfCmd, ebpfMapBufLen, ebpfProgTag, encodeEbpfMapCmd,
  encodeEbpfProgCmd, encodeEbpfResult, FeatureSet, readEbpfReply, VIRTIO_NET_BPF_F_META, VIRTIO_NET_BPF_MAP_CMD, VIRTIO_NET_BPF_OFFLOAD_HELPERS,
  VIRTIO_NET_BPF_PROG_CMD, VIRTIO_NET_CTRL_EBPF, VIRTIO_NET_CTRL_EBPF_CMD, VIRTIO_NET_F, VIRTIO_NET_F_VXO, VirtioError,
} from '../../virtio/index.ts';
import { encodeInsns, insn } from '../../bpf-vm/index.ts';

const reason = (r: unknown): string => (r instanceof EbpfCtrlDecodeError ? r.reason : 'decoded');

test('constants: the RFC numbers and vxo feature bits outside every standard virtio-net bit', (t) => {
  t.is(VIRTIO_NET_CTRL_EBPF, 6);
  t.deepEqual(VIRTIO_NET_CTRL_EBPF_CMD, { VIRTIO_NET_CTRL_EBPF_PROG: 1, VIRTIO_NET_CTRL_EBPF_MAP: 2 });
  t.deepEqual(Object.values(VIRTIO_NET_BPF_PROG_CMD), [1, 2]);
  t.deepEqual(Object.values(VIRTIO_NET_BPF_MAP_CMD), [1, 2, 3, 4, 5, 6, 7]);
  t.is(Object.keys(VIRTIO_NET_BPF_OFFLOAD_HELPERS).length, 11);
  const standard = new Set<number>(Object.values(VIRTIO_NET_F));
  for (const b of Object.values(VIRTIO_NET_F_VXO)) t.false(standard.has(b));
  t.deepEqual(FeatureSet.of(VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_OFFLOAD).names(), ['bit 47']);
});

test('PROG payload: 8-byte little-endian header then the instructions', (t) => {
  const insns = encodeInsns([insn(0xb7, 0, 0, 0, 2), insn(0x95)]);
  const d = encodeEbpfProgCmd({ cmd: 1, gplCompatible: 1, insns });
  t.deepEqual([...d.subarray(0, 8)], [16, 0, 0, 0, 1, 0, 1, 0]);
  t.deepEqual(d.subarray(8), insns);
  const c = decodeEbpfProgCmd(d);
  if (c instanceof EbpfCtrlDecodeError) return t.fail(c.message);
  t.is(c.cmd, 1);
  t.is(c.gplCompatible, 1);
  t.deepEqual(c.insns, insns);
  t.is(c.meta, undefined);
});

test('PROG payload: malformed ones are error values', (t) => {
  const ok = encodeEbpfProgCmd({ cmd: 1, insns: new Uint8Array(16) });
  t.is(reason(decodeEbpfProgCmd(ok.subarray(0, 7))), 'SHORT_HEADER');
  t.is(reason(decodeEbpfProgCmd(new Uint8Array(0))), 'SHORT_HEADER');
  t.is(reason(decodeEbpfProgCmd(ok.subarray(0, 20))), 'LEN_MISMATCH', 'len says 16, 12 bytes follow');
  const longer = new Uint8Array(ok.length + 8);
  longer.set(ok);
  t.is(reason(decodeEbpfProgCmd(longer)), 'LEN_MISMATCH', 'trailing bytes without the META flag');
  const odd = ok.slice();
  odd[0] = 12;
  t.is(reason(decodeEbpfProgCmd(odd)), 'INSN_ALIGN');
  const flags = ok.slice();
  flags[5] = 0x01;
  t.is(reason(decodeEbpfProgCmd(flags)), 'BAD_CMD_FLAGS');
  const metaNoTrailer = ok.slice();
  metaNoTrailer[5] = 0x80;
  t.is(reason(decodeEbpfProgCmd(metaNoTrailer)), 'LEN_MISMATCH');
  const e = decodeEbpfProgCmd(odd);
  t.true(e instanceof VirtioError && e.code === 'EINVAL');
});

test('MAP payload: 40-byte header, buf = key + max(key, value)', (t) => {
  const buf = new Uint8Array(12);
  buf.set([1, 2, 3, 4], 0);
  buf.set([9, 9, 9, 9, 9, 9, 9, 9], 4);
  const d = encodeEbpfMapCmd({ cmd: 3, mapType: 2, keySize: 4, valueSize: 8, maxEntries: 256, mapFlags: 0, mapFd: 7, flags: 2, buf });
  t.is(d.length, 52);
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  t.deepEqual([0, 4, 8, 12, 16, 20, 24, 28].map((o) => v.getUint32(o, true)), [12, 3, 2, 4, 8, 256, 0, 7]);
  t.is(v.getBigUint64(32, true), 2n);
  const c = decodeEbpfMapCmd(d);
  if (c instanceof EbpfCtrlDecodeError) return t.fail(c.message);
  t.like(c, { cmd: 3, mapType: 2, keySize: 4, valueSize: 8, maxEntries: 256, mapFlags: 0, mapFd: 7, flags: 2n });
  t.deepEqual(c.buf, buf);
  t.is(ebpfMapBufLen(4, 8), 12);
  t.is(ebpfMapBufLen(16, 4), 32);
});

test('MAP payload: short header, buf_len against the bytes and against the sizes', (t) => {
  const ok = encodeEbpfMapCmd({ cmd: 4, mapType: 1, keySize: 4, valueSize: 8, maxEntries: 8, mapFd: 1 });
  t.is(reason(decodeEbpfMapCmd(ok.subarray(0, 39))), 'SHORT_HEADER');
  t.is(reason(decodeEbpfMapCmd(ok.subarray(0, 45))), 'LEN_MISMATCH');
  const extra = new Uint8Array(ok.length + 1);
  extra.set(ok);
  t.is(reason(decodeEbpfMapCmd(extra)), 'LEN_MISMATCH');
  // buf_len agrees with the bytes, but not with key_size/value_size.
  const sizes = encodeEbpfMapCmd({ cmd: 4, mapType: 1, keySize: 4, valueSize: 16, maxEntries: 8, mapFd: 1, buf: new Uint8Array(12) });
  t.is(reason(decodeEbpfMapCmd(sizes)), 'BUF_LEN_MISMATCH');
  const huge = ok.slice();
  new DataView(huge.buffer, huge.byteOffset, huge.byteLength).setUint32(12, 0xffffffff, true);
  t.is(reason(decodeEbpfMapCmd(huge)), 'BUF_LEN_MISMATCH');
  const flags = ok.slice();
  flags[6] = 1;
  t.is(reason(decodeEbpfMapCmd(flags)), 'BAD_CMD_FLAGS');
});

test('metadata trailer: msgpack maps after the instructions or the buf, flagged in cmd', (t) => {
  const insns = encodeInsns([insn(0xb7), insn(0x95)]);
  const p = encodeEbpfProgCmd({ cmd: 1, insns, meta: { name: 'xdp1', tag: '0123456789abcdef', license: 'GPL' } });
  t.is(new DataView(p.buffer, p.byteOffset, p.byteLength).getUint16(4, true), 1 | VIRTIO_NET_BPF_F_META);
  t.is(new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0, true), 16, 'len counts the instructions only');
  const pc = decodeEbpfProgCmd(p);
  if (pc instanceof EbpfCtrlDecodeError) return t.fail(pc.message);
  t.deepEqual(pc.meta, { name: 'xdp1', tag: '0123456789abcdef', license: 'GPL' });
  t.deepEqual(pc.insns, insns);

  const m = encodeEbpfMapCmd({ cmd: 1, mapType: 2, keySize: 4, valueSize: 8, maxEntries: 4, meta: { name: 'rxcnt', keyType: '__u32', valueType: '__u64' } });
  const mc = decodeEbpfMapCmd(m);
  if (mc instanceof EbpfCtrlDecodeError) return t.fail(mc.message);
  t.deepEqual(mc.meta, { name: 'rxcnt', keyType: '__u32', valueType: '__u64' });

  const withTrailer = (trailer: Uint8Array): Uint8Array => {
    const d = new Uint8Array(8 + 16 + trailer.length);
    d.set(encodeEbpfProgCmd({ cmd: 1, insns }));
    d[5] = 0x80;
    d.set(trailer, 24);
    return d;
  };
  t.is(reason(decodeEbpfProgCmd(withTrailer(Uint8Array.from(pack({ name: 'ok', extra: 5 }))))), 'decoded', 'unknown keys are ignored');
  t.is(reason(decodeEbpfProgCmd(withTrailer(new Uint8Array([0xc1])))), 'BAD_METADATA', 'not msgpack');
  t.is(reason(decodeEbpfProgCmd(withTrailer(Uint8Array.from(pack([1, 2]))))), 'BAD_METADATA', 'not a map');
  t.is(reason(decodeEbpfProgCmd(withTrailer(Uint8Array.from(pack({ name: 'a-name-that-is-too-long' }))))), 'BAD_METADATA');
  t.is(reason(decodeEbpfProgCmd(withTrailer(Uint8Array.from(pack({ tag: 'xyz' }))))), 'BAD_METADATA');
  t.is(reason(decodeEbpfProgCmd(withTrailer(Uint8Array.from(pack({ name: 7 }))))), 'BAD_METADATA');
  t.is(reason(decodeEbpfProgCmd(withTrailer(new Uint8Array([...pack({ name: 'a' }), 0])))), 'BAD_METADATA', 'trailing bytes after the map');
  t.is(reason(decodeEbpfProgCmd(withTrailer(new Uint8Array(5000)))), 'BAD_METADATA', 'too large');
  t.is(reason(decodeEbpfProgCmd(withTrailer(Uint8Array.from(pack({ __proto__: 'x', name: 'a' }))))), 'decoded');
});

test('result buffer: errno, len, data; cut to the room the driver gave', (t) => {
  const r = encodeEbpfResult(0, new Uint8Array([1, 2, 3, 4]));
  t.deepEqual([...r], [0, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]);
  t.deepEqual(decodeEbpfResult(r), { errno: 0, data: new Uint8Array([1, 2, 3, 4]), truncated: false });
  const log = new TextEncoder().encode('R0 invalid mem access\nprocessed 3 insns');
  const cut = encodeEbpfResult(13, log, 18);
  t.is(cut.length, 18);
  const d = decodeEbpfResult(cut);
  if (d instanceof EbpfCtrlDecodeError) return t.fail(d.message);
  t.is(d.errno, 13);
  t.true(d.truncated);
  t.is(new TextDecoder().decode(d.data), 'R0 invalid');
  t.is(encodeEbpfResult(22, log, 7).length, 0, 'no room for the header: the ack alone answers');
  t.is(reason(decodeEbpfResult(new Uint8Array(7))), 'SHORT_HEADER');
  t.is(reason(decodeEbpfResult(new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0, 5, 6]))), 'LEN_MISMATCH');
  t.like(readEbpfReply({ ack: 1, result: encodeEbpfResult(2) }), { ok: false, errno: 2 });
  t.like(readEbpfReply({ ack: 0, result: encodeEbpfResult(0, new Uint8Array([7])) }), { ok: true, errno: 0 });
  t.like(readEbpfReply({ ack: 1, result: new Uint8Array(0) }), { ok: false, errno: 0 });
  t.true(readEbpfReply({ ack: 0, result: new Uint8Array(3) }).malformed instanceof EbpfCtrlDecodeError);
});

test('builders: one per sub-command, well formed, with result room for the answer or a reason', (t) => {
  const m = { handle: 5, mapType: 1, keySize: 4, valueSize: 8, maxEntries: 16 };
  const k = new Uint8Array([1, 0, 0, 0]);
  const v = new Uint8Array(8).fill(3);
  const cases = [
    [ebpfCmd.createMap({ mapType: 1, keySize: 4, valueSize: 8, maxEntries: 16 }), 1, 264],
    [ebpfCmd.freeMap(m), 2, 264],
    [ebpfCmd.updateElem(m, k, v, 1), 3, 264],
    [ebpfCmd.lookupElem(m, k), 4, 264],
    [ebpfCmd.deleteElem(m, k), 5, 264],
    [ebpfCmd.getFirst(m), 6, 264],
    [ebpfCmd.getNext(m, k), 7, 264],
  ] as const;
  for (const [req, sub, room] of cases) {
    t.is(req.cls, 6);
    t.is(req.cmd, VIRTIO_NET_CTRL_EBPF_CMD.VIRTIO_NET_CTRL_EBPF_MAP);
    t.is(req.resultLen, room);
    const c = decodeEbpfMapCmd(req.data);
    if (c instanceof EbpfCtrlDecodeError) return t.fail(c.message);
    t.is(c.cmd, sub);
    if (sub !== 1) t.is(c.mapFd, 5);
  }
  const u = decodeEbpfMapCmd(ebpfCmd.updateElem(m, k, v, 1).data);
  if (u instanceof EbpfCtrlDecodeError) return t.fail(u.message);
  t.deepEqual(u.buf, new Uint8Array([1, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3]));
  t.is(u.flags, 1n);
  const set = ebpfCmd.setOffload({ insns: new Uint8Array(16), gplCompatible: true });
  t.is(set.cmd, VIRTIO_NET_CTRL_EBPF_CMD.VIRTIO_NET_CTRL_EBPF_PROG);
  t.like(decodeEbpfProgCmd(set.data), { cmd: 1, gplCompatible: 1 });
  t.like(decodeEbpfProgCmd(ebpfCmd.unsetOffload().data), { cmd: 2, gplCompatible: 0 });
  t.is(ebpfCmd.lookupElem({ ...m, valueSize: 1000 }, k).resultLen, 1008, 'a large value gets its room');
  t.is(ebpfCmd.setOffload({ insns: new Uint8Array(8), logRoom: 100 }).resultLen, 108);
  t.is(t.throws(() => ebpfCmd.lookupElem(m, new Uint8Array(3)), { instanceOf: VirtioError })?.code, 'EINVAL');
  t.is(t.throws(() => ebpfCmd.updateElem(m, k, new Uint8Array(4)), { instanceOf: VirtioError })?.code, 'EINVAL');
});

test('tag: map references zeroed (fds or handles give one tag), plain constants kept', (t) => {
  const prog = (fd: number, constLo: number): Uint8Array => encodeInsns([
    insn(0x18, 1, 1, 0, fd), insn(0, 0, 0, 0, 0), // map by fd
    insn(0x18, 2, 2, 0, fd), insn(0, 0, 0, 0, 16), // map value by fd + offset
    insn(0x18, 3, 0, 0, constLo), insn(0, 0, 0, 0, 1), // a plain constant
    insn(0xb7, 0, 0, 0, 2), insn(0x95),
  ]);
  t.is(ebpfProgTag(prog(3, 9)), ebpfProgTag(prog(1234, 9)), 'guest fd 3 and device handle 1234');
  t.not(ebpfProgTag(prog(3, 9)), ebpfProgTag(prog(3, 10)), 'the constant is part of the tag');
  t.regex(ebpfProgTag(prog(3, 9)), /^[0-9a-f]{16}$/);
  t.not(ebpfProgTag(prog(3, 9), 'sha1'), ebpfProgTag(prog(3, 9)));
});
