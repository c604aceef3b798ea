// virtnet_probe against the real device model, in one thread: feature negotiation, refusals as
// typed errors with FAILED set, queue setup reaching the device (and vhost via onStart), the first
// rx fill, and virtnet_remove giving everything back.
import test from 'ava';
import {
  FeatureSet, GuestMemory, PageAllocator, VIRTIO_CONFIG_S, VIRTIO_F, VIRTIO_NET_F, VIRTIO_PCI_CAP, VIRTIO_PCI_COMMON,
  type VirtioPciCap, type VirtioPciRegs,
} from '../../virtio/index.ts';
import { VirtioNet } from '../../host/qemu/virtio-net.ts';
import {
  rxBufferGeometry, VIRTNET_FEATURES, virtnet_probe, VirtioPciModernDevice, VirtnetError,
} from '../../guest/virtio-net/index.ts';
import { makeRig } from './rig.ts';

const S = VIRTIO_CONFIG_S;
const LIVE = S.VIRTIO_CONFIG_S_ACKNOWLEDGE | S.VIRTIO_CONFIG_S_DRIVER | S.VIRTIO_CONFIG_S_FEATURES_OK | S.VIRTIO_CONFIG_S_DRIVER_OK;
const OFFLOAD_BIT = 47;

test('negotiates the driver\'s bits the device offers, reads MAC/MTU/status, goes live', (t) => {
  const r = makeRig({ device: { mac: [2, 0, 0, 0, 0, 9], mtu: 1500 } });
  t.true(r.driver.features.equals(FeatureSet.of(...VIRTNET_FEATURES)), r.driver.features.toString());
  t.true(r.driver.deviceFeatures.has(VIRTIO_NET_F.VIRTIO_NET_F_CTRL_RX), 'offered');
  t.false(r.driver.features.has(VIRTIO_NET_F.VIRTIO_NET_F_CTRL_RX), 'but not asked for');
  t.true(r.net.features.equals(r.driver.features), 'the device holds the same set');
  t.deepEqual([...r.driver.mac], [2, 0, 0, 0, 0, 9]);
  t.is(r.driver.mtu, 1500);
  t.is(r.driver.linkStatus, 1);
  t.is(r.driver.hdrLen, 12);
  t.is(r.net.pci.status.status, LIVE);
  t.false(r.driver.virtnet_needs_reset());
});

test('extra feature bits are accepted only when the device offers them', (t) => {
  const offered = makeRig({ device: { extraFeatures: [OFFLOAD_BIT] }, driver: { extraFeatures: [OFFLOAD_BIT] } });
  t.true(offered.driver.features.has(OFFLOAD_BIT));
  t.true(offered.net.features.has(OFFLOAD_BIT));
  const notOffered = makeRig({ driver: { extraFeatures: [OFFLOAD_BIT] } });
  t.false(notOffered.driver.features.has(OFFLOAD_BIT));
  const notAsked = makeRig({ device: { extraFeatures: [OFFLOAD_BIT] } });
  t.false(notAsked.driver.features.has(OFFLOAD_BIT));
});

test('a device without VERSION_1 is refused (EINVAL) and left FAILED', (t) => {
  const mem = GuestMemory.create(4 << 20);
  const pages = new PageAllocator(mem);
  const free = pages.freeBytes;
  const net = new VirtioNet(mem, { withoutFeatures: [VIRTIO_F.VIRTIO_F_VERSION_1] });
  const e = t.throws(() => virtnet_probe({ mem, regs: net, pages, notify: () => {} }), { instanceOf: VirtnetError });
  t.is(e?.code, 'EINVAL');
  t.is(net.pci.status.status & S.VIRTIO_CONFIG_S_FAILED, S.VIRTIO_CONFIG_S_FAILED);
  t.is(net.pci.status.status & S.VIRTIO_CONFIG_S_FEATURES_OK, 0);
  t.is(pages.freeBytes, free, 'nothing allocated');
});

/** The real device behind a register file that advertises one bit more than the device takes. */
class OverAdvertising implements VirtioPciRegs {
  private dfselect = 0;
  constructor(private readonly dev: VirtioPciRegs, private readonly bit: number) {}
  read(cap: VirtioPciCap, off: number, size: 1 | 2 | 4): number {
    const v = this.dev.read(cap, off, size);
    if (cap === VIRTIO_PCI_CAP.COMMON && off === VIRTIO_PCI_COMMON.VIRTIO_PCI_COMMON_DF && this.dfselect === (this.bit >> 5)) {
      return (v | (1 << (this.bit & 31))) >>> 0;
    }
    return v;
  }
  write(cap: VirtioPciCap, off: number, size: 1 | 2 | 4, value: number): void {
    if (cap === VIRTIO_PCI_CAP.COMMON && off === VIRTIO_PCI_COMMON.VIRTIO_PCI_COMMON_DFSELECT) this.dfselect = value;
    this.dev.write(cap, off, size, value);
  }
}

test('FEATURES_OK refused by the device: ENODEV, FAILED, rings released', (t) => {
  const mem = GuestMemory.create(4 << 20);
  const pages = new PageAllocator(mem);
  const free = pages.freeBytes;
  const net = new VirtioNet(mem);
  const regs = new OverAdvertising(net, OFFLOAD_BIT);
  const e = t.throws(() => virtnet_probe({ mem, regs, pages, notify: () => {}, extraFeatures: [OFFLOAD_BIT] }), { instanceOf: VirtnetError });
  t.is(e?.code, 'ENODEV');
  t.regex(e?.message ?? '', /refuses features/);
  t.is(net.pci.status.status & (S.VIRTIO_CONFIG_S_FEATURES_OK | S.VIRTIO_CONFIG_S_FAILED), S.VIRTIO_CONFIG_S_FAILED);
  t.is(pages.freeBytes, free);
});

test('guest memory too small for the buffers: ENOMEM, FAILED, nothing leaked', (t) => {
  const mem = GuestMemory.create(256 << 10);
  const pages = new PageAllocator(mem);
  const free = pages.freeBytes;
  const net = new VirtioNet(mem);
  const e = t.throws(() => virtnet_probe({ mem, regs: net, pages, notify: () => {} }), { instanceOf: VirtnetError });
  t.is(e?.code, 'ENOMEM');
  t.is(net.pci.status.status & S.VIRTIO_CONFIG_S_FAILED, S.VIRTIO_CONFIG_S_FAILED);
  t.is(pages.freeBytes, free);
});

test('the queue layouts the driver programmed reach onStart (vhost) and the device registers', (t) => {
  const r = makeRig();
  t.deepEqual(r.started.rx, r.driver.rq.vq.ring.layout);
  t.deepEqual(r.started.tx, r.driver.sq.vq.ring.layout);
  t.deepEqual(r.started.features, { lo: r.driver.features.lo, hi: r.driver.features.hi });
  const dev = new VirtioPciModernDevice(r.net);
  t.is(dev.vp_modern_get_num_queues(), 3);
  for (const [i, vq] of [r.driver.rq.vq, r.driver.sq.vq, r.driver.cvq!.vq].entries()) {
    t.is(dev.vp_modern_get_queue_size(i), vq.ring.size);
    t.true(dev.vp_modern_get_queue_enable(i));
    t.is(r.net.pci.queues[i]!.desc, vq.ring.layout.desc);
    t.is(r.net.pci.queues[i]!.avail, vq.ring.layout.avail);
    t.is(r.net.pci.queues[i]!.used, vq.ring.layout.used);
  }
  t.true(r.driver.features.equals(dev.vp_modern_get_driver_features()));
  t.is(r.net.ctrl?.ring.layout.desc, r.driver.cvq!.vq.ring.layout.desc);
});

test('queue size: the device maximum by default, a lower limit rounded down to a power of two', (t) => {
  const full = makeRig({ device: { queueSize: 512 } });
  t.is(full.driver.rq.vq.ring.size, 512);
  t.is(full.driver.sq.vq.ring.size, 512);
  const limited = makeRig({ device: { queueSize: 512 }, driver: { queueSize: 100 } });
  t.is(limited.driver.rq.vq.ring.size, 64);
  t.is(limited.driver.sq.vq.ring.size, 64);
  t.is(limited.net.pci.queues[0]!.size, 64, 'the device took the smaller size');
  t.is(limited.driver.cvq!.vq.ring.size, 64, 'the control queue keeps the device maximum');
  t.is(limited.driver.pool.count, 128, 'one buffer per rx and per tx slot');
});

test('the first fill: rx ring full, one publish, one kick; the buffer geometry', (t) => {
  const r = makeRig();
  const q = r.driver.rq.vq.ring.size;
  t.is(r.driver.rq.vq.outstanding, q);
  t.is(r.driver.rq.vq.ring.availIdx(), q);
  t.is(r.kicks[0], 1);
  t.is(r.driver.stats.rx_refills, q);
  t.is(r.driver.pool.free, r.driver.sq.vq.ring.size);
  t.deepEqual(rxBufferGeometry(1500, 12), { hdrLen: 12, descLen: 1536, truesize: 2112 });
  t.is(r.rxDev.pop(), 0);
  t.is(r.rxDev.chain.addr[0], r.driver.pool.hdrAddr(0));
  t.is(r.rxDev.chain.len[0], 1536);
  t.is(r.rxDev.chain.writable[0], 1);
  t.is(r.driver.pool.hdrAddr(0) - r.driver.pool.bufAddr(0), 256);
  const big = makeRig({ device: { mtu: 9000 } });
  t.is(big.driver.mtu, 9000);
  t.is(big.driver.pool.descLen, 9088);
});

test('a device without CTRL_VQ gets no control queue; send() says EOPNOTSUPP', (t) => {
  const r = makeRig({ device: { withoutFeatures: [VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ] } });
  t.is(r.driver.cvq, undefined);
  t.is(r.net.ctrl, undefined);
  const e = t.throws(() => r.driver.send(0, 0, new Uint8Array([1]), 0), { instanceOf: VirtnetError });
  t.is(e?.code, 'EOPNOTSUPP');
});

test('virtnet_remove resets the device and gives every buffer and page back', (t) => {
  const mem = GuestMemory.create(8 << 20);
  const pages = new PageAllocator(mem);
  const free = pages.freeBytes;
  const net = new VirtioNet(mem);
  let stopped = 0;
  net.onStop = () => { stopped++; };
  const driver = virtnet_probe({ mem, regs: net, pages, notify: () => {} });
  t.true(pages.freeBytes < free);
  const before = stopped;
  driver.virtnet_remove();
  t.is(stopped, before + 1, 'vhost told to stop');
  t.is(net.pci.status.status, 0);
  t.is(driver.pool.free, driver.pool.count);
  t.is(pages.freeBytes, free);
  const again = virtnet_probe({ mem, regs: net, pages, notify: () => {} });
  t.is(net.pci.status.status, LIVE, 'the device can be probed again');
  again.virtnet_remove();
});
