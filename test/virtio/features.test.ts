// Feature bits as two u32 halves, negotiation, and the device status state machine.
import test from 'ava';
import {
  DeviceStatus, driverInit, FeatureSet, negotiateFeatures, VIRTIO_CONFIG_S, VIRTIO_F, VIRTIO_NET_F, VirtioError,
} from '../../virtio/index.ts';

const S = VIRTIO_CONFIG_S;
const ACK = S.VIRTIO_CONFIG_S_ACKNOWLEDGE;
const DRV = S.VIRTIO_CONFIG_S_DRIVER;
const FOK = S.VIRTIO_CONFIG_S_FEATURES_OK;
const DOK = S.VIRTIO_CONFIG_S_DRIVER_OK;

const DEVICE = FeatureSet.of(
  VIRTIO_F.VIRTIO_F_VERSION_1, VIRTIO_NET_F.VIRTIO_NET_F_MAC, VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F.VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_F.VIRTIO_RING_F_EVENT_IDX, VIRTIO_F.VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_NET_F.VIRTIO_NET_F_MQ, VIRTIO_NET_F.VIRTIO_NET_F_RSS,
);

test('bit values match the headers', (t) => {
  t.is(VIRTIO_NET_F.VIRTIO_NET_F_CSUM, 0);
  t.is(VIRTIO_NET_F.VIRTIO_NET_F_GUEST_CSUM, 1);
  t.is(VIRTIO_NET_F.VIRTIO_NET_F_MAC, 5);
  t.is(VIRTIO_NET_F.VIRTIO_NET_F_MRG_RXBUF, 15);
  t.is(VIRTIO_NET_F.VIRTIO_NET_F_STATUS, 16);
  t.is(VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ, 17);
  t.is(VIRTIO_NET_F.VIRTIO_NET_F_CTRL_RX, 18);
  t.is(VIRTIO_NET_F.VIRTIO_NET_F_MQ, 22);
  t.is(VIRTIO_NET_F.VIRTIO_NET_F_HASH_REPORT, 57);
  t.is(VIRTIO_NET_F.VIRTIO_NET_F_RSS, 60);
  t.is(VIRTIO_F.VIRTIO_RING_F_INDIRECT_DESC, 28);
  t.is(VIRTIO_F.VIRTIO_RING_F_EVENT_IDX, 29);
  t.is(VIRTIO_F.VIRTIO_F_VERSION_1, 32);
  t.is(VIRTIO_F.VIRTIO_F_RING_PACKED, 34);
  t.deepEqual([ACK, DRV, DOK, FOK, S.VIRTIO_CONFIG_S_NEEDS_RESET, S.VIRTIO_CONFIG_S_FAILED], [1, 2, 4, 8, 64, 128]);
});

test('FeatureSet: two halves, set algebra, BigInt only at the edges', (t) => {
  const f = FeatureSet.of(0, 31, 32, 63);
  t.is(f.lo, 0x8000_0001);
  t.is(f.hi, 0x8000_0001);
  t.true(f.has(31) && f.has(63) && !f.has(30) && !f.has(64) && !f.has(-1));
  t.is(f.toBigInt(), (1n << 63n) | (1n << 32n) | (1n << 31n) | 1n);
  t.true(FeatureSet.fromBigInt(f.toBigInt()).equals(f));
  t.true(FeatureSet.fromHalves(f.lo, f.hi).equals(f));
  t.deepEqual(f.without(31, 32).bits(), [0, 63]);
  t.deepEqual(f.and(FeatureSet.of(32, 5)).bits(), [32]);
  t.true(FeatureSet.of(32).isSubsetOf(f));
  t.false(FeatureSet.of(33).isSubsetOf(f));
  t.deepEqual(FeatureSet.of(5, 32, 44).names(), ['VIRTIO_NET_F_MAC', 'VIRTIO_F_VERSION_1', 'bit 44']);
  t.is(FeatureSet.EMPTY.toString(), '(none)');
  t.is(t.throws(() => FeatureSet.of(64), { instanceOf: VirtioError })?.code, 'EINVAL');
  t.is(t.throws(() => FeatureSet.fromBigInt(1n << 64n), { instanceOf: VirtioError })?.code, 'EINVAL');
});

test('negotiation: the driver accepts the subset it supports; the handshake reaches DRIVER_OK', (t) => {
  const driver = FeatureSet.of(VIRTIO_F.VIRTIO_F_VERSION_1, VIRTIO_NET_F.VIRTIO_NET_F_MAC, VIRTIO_F.VIRTIO_RING_F_EVENT_IDX, VIRTIO_NET_F.VIRTIO_NET_F_CSUM);
  t.deepEqual(negotiateFeatures(DEVICE, driver).bits(), [5, 29, 32]);
  const dev = new DeviceStatus(DEVICE);
  const seen: number[] = [];
  const f = driverInit(dev, driver, () => seen.push(dev.status));
  t.deepEqual(f.bits(), [5, 29, 32]);
  t.deepEqual(seen, [ACK | DRV | FOK], 'queues are set up after FEATURES_OK, before DRIVER_OK');
  t.is(dev.status, ACK | DRV | FOK | DOK);
  t.true(dev.live);
  t.true(dev.negotiated.equals(f));
  dev.setNeedsReset();
  t.false(dev.live);
  t.is(dev.status & S.VIRTIO_CONFIG_S_NEEDS_RESET, S.VIRTIO_CONFIG_S_NEEDS_RESET);
  dev.write(0);
  t.is(dev.status, 0);
  t.true(dev.driverFeatures.equals(FeatureSet.EMPTY));
});

test('the device refuses features it did not offer, or a modern device without VERSION_1: FEATURES_OK stays clear', (t) => {
  const dev = new DeviceStatus(DEVICE);
  dev.write(ACK);
  dev.write(ACK | DRV);
  dev.writeDriverFeatures(FeatureSet.of(VIRTIO_F.VIRTIO_F_VERSION_1, VIRTIO_NET_F.VIRTIO_NET_F_CSUM));
  dev.write(ACK | DRV | FOK);
  t.is(dev.status, ACK | DRV, 'not offered: refused');
  dev.writeDriverFeatures(FeatureSet.of(VIRTIO_NET_F.VIRTIO_NET_F_MAC));
  dev.write(ACK | DRV | FOK | DOK);
  t.is(dev.status, ACK | DRV, 'no VERSION_1: refused, and DRIVER_OK with it');
  // driverInit with a driver that does not speak VERSION_1 ends in FAILED.
  const e = t.throws(() => driverInit(dev, FeatureSet.of(VIRTIO_NET_F.VIRTIO_NET_F_MAC)), { instanceOf: VirtioError });
  t.is(e?.code, 'EPROTO');
  t.is(dev.status & S.VIRTIO_CONFIG_S_FAILED, S.VIRTIO_CONFIG_S_FAILED);
  t.is(t.throws(() => dev.write(dev.status | DOK), { instanceOf: VirtioError })?.code, 'ESTATUS', 'nothing after FAILED but a reset');
  // A legacy-capable device (no VERSION_1 offered) takes a driver without it.
  const legacy = new DeviceStatus(FeatureSet.of(VIRTIO_NET_F.VIRTIO_NET_F_MAC));
  t.deepEqual(driverInit(legacy, FeatureSet.of(VIRTIO_NET_F.VIRTIO_NET_F_MAC)).bits(), [5]);
});

test('out-of-order status transitions are refused with ESTATUS and change nothing', (t) => {
  const dev = new DeviceStatus(DEVICE);
  const refuse = (v: number, why: string): void => {
    const before = dev.status;
    const e = t.throws(() => dev.write(v), { instanceOf: VirtioError });
    t.is(e?.code, 'ESTATUS', why);
    t.is(dev.status, before, why);
  };
  refuse(DRV, 'DRIVER before ACKNOWLEDGE');
  refuse(ACK | FOK, 'FEATURES_OK before DRIVER');
  refuse(ACK | DRV | DOK, 'DRIVER_OK before FEATURES_OK');
  refuse(0x10, 'an unknown bit');
  refuse(S.VIRTIO_CONFIG_S_NEEDS_RESET | ACK, 'NEEDS_RESET is the device\'s');
  t.is(t.throws(() => dev.writeDriverFeatures(DEVICE), { instanceOf: VirtioError })?.code, 'ESTATUS', 'features before DRIVER');
  dev.write(ACK);
  dev.write(ACK | DRV);
  dev.writeDriverFeatures(FeatureSet.of(VIRTIO_F.VIRTIO_F_VERSION_1));
  dev.write(ACK | DRV | FOK);
  t.is(t.throws(() => dev.writeDriverFeatures(DEVICE), { instanceOf: VirtioError })?.code, 'ESTATUS', 'features after FEATURES_OK');
  refuse(ACK | FOK, 'clearing DRIVER');
  t.is(t.throws(() => dev.write(256), { instanceOf: VirtioError })?.code, 'EINVAL', 'not a byte');
  dev.write(ACK | DRV | FOK | DOK);
  t.true(dev.live);
  dev.write(dev.status | S.VIRTIO_CONFIG_S_FAILED);
  t.false(dev.live);
});
