// struct virtio_net_hdr_v1 codec at guest-physical addresses.
import test from 'ava';
import {
  emptyNetHdr, FeatureSet, GuestMemory, netHdrSize, readNetHdr, validateNetHdr, VIRTIO_F, VIRTIO_NET_F, VIRTIO_NET_HDR_F,
  VIRTIO_NET_HDR_GSO, VIRTIO_NET_HDR_LEGACY_SIZE, VIRTIO_NET_HDR_V1_SIZE, VirtioError, type VirtioNetHdr, writeNetHdr, writePlainNetHdr,
} from '../../virtio/index.ts';

const H: VirtioNetHdr = { flags: 1, gsoType: 4, hdrLen: 0x3412, gsoSize: 1448, csumStart: 34, csumOffset: 16, numBuffers: 3 };

test('round trip and the exact little-endian byte layout', (t) => {
  const mem = GuestMemory.create(4096);
  writeNetHdr(mem, 100, H);
  t.deepEqual([...mem.bytes(100, 12)], [1, 4, 0x12, 0x34, 0xa8, 0x05, 34, 0, 16, 0, 3, 0]);
  const out = emptyNetHdr();
  t.is(readNetHdr(mem, 100, out), out, 'fills the caller\'s object');
  t.deepEqual(out, H);
  t.is(VIRTIO_NET_HDR_V1_SIZE, 12);
  t.is(VIRTIO_NET_HDR_LEGACY_SIZE, 10);
});

test('legacy 10-byte header: no num_buffers', (t) => {
  const mem = GuestMemory.create(4096);
  mem.fill(0, 64, 0xee);
  writeNetHdr(mem, 0, H, 10);
  t.is(mem.readU8(10), 0xee, 'the 11th byte is packet data, untouched');
  t.deepEqual(readNetHdr(mem, 0, emptyNetHdr(), 10), { ...H, numBuffers: 0 });
  t.is(t.throws(() => readNetHdr(mem, 0, emptyNetHdr(), 11), { instanceOf: VirtioError })?.code, 'EINVAL');
});

test('header size from the negotiated features', (t) => {
  t.is(netHdrSize(FeatureSet.of(VIRTIO_F.VIRTIO_F_VERSION_1)), 12);
  t.is(netHdrSize(FeatureSet.of(VIRTIO_NET_F.VIRTIO_NET_F_MRG_RXBUF)), 12);
  t.is(netHdrSize(FeatureSet.of(VIRTIO_NET_F.VIRTIO_NET_F_MAC)), 10);
});

test('the plain header of the packet path', (t) => {
  const mem = GuestMemory.create(4096);
  mem.fill(0, 32, 0xff);
  writePlainNetHdr(mem, 4, 0x0102);
  t.deepEqual(readNetHdr(mem, 4, emptyNetHdr()), { ...emptyNetHdr(), numBuffers: 0x0102 });
  t.is(mem.readU8(3), 0xff);
  t.is(mem.readU8(16), 0xff);
});

test('malformed: out of memory, out-of-range fields, and semantic checks', (t) => {
  const mem = GuestMemory.create(4096);
  t.is(t.throws(() => readNetHdr(mem, 4090, emptyNetHdr()), { instanceOf: VirtioError })?.code, 'EFAULT');
  t.is(t.throws(() => writeNetHdr(mem, 4086, H), { instanceOf: VirtioError })?.code, 'EFAULT');
  t.notThrows(() => writeNetHdr(mem, 4084, H));
  for (const bad of [{ flags: 256 }, { gsoType: -1 }, { hdrLen: 65536 }, { csumStart: 1.5 }, { numBuffers: Number.NaN }]) {
    t.is(t.throws(() => writeNetHdr(mem, 0, { ...H, ...bad }), { instanceOf: VirtioError })?.code, 'EINVAL');
  }
  const G = VIRTIO_NET_HDR_GSO;
  t.is(validateNetHdr(emptyNetHdr(), 60), null);
  t.is(validateNetHdr(H, 1500, true), null);
  t.regex(validateNetHdr({ ...H, flags: 0x10 }, 1500) ?? '', /unknown flags/);
  t.regex(validateNetHdr({ ...H, gsoType: 2 }, 1500) ?? '', /unknown gso_type/);
  t.regex(validateNetHdr({ ...emptyNetHdr(), gsoType: G.VIRTIO_NET_HDR_GSO_ECN }, 60) ?? '', /ECN without GSO/);
  t.regex(validateNetHdr({ ...H, gsoSize: 0 }, 1500) ?? '', /gso_size 0/);
  t.regex(validateNetHdr({ ...H, flags: VIRTIO_NET_HDR_F.VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 40, csumOffset: 19 }, 60) ?? '', /beyond the 60-byte packet/);
  t.regex(validateNetHdr({ ...H, numBuffers: 0 }, 1500, true) ?? '', /num_buffers 0/);
});
