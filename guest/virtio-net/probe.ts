// virtnet_probe, with the generic steps of virtio_dev_probe around it: reset, ACKNOWLEDGE,
// DRIVER, feature negotiation (vp_finalize_features, virtio_features_ok), config space, the
// queues (init_vqs: size, ring, addresses, enable), the packet buffers, DRIVER_OK, then the first
// rx fill (virtnet_open). Any failure sets FAILED, releases what was allocated and throws a
// VirtnetError.
import { randomFillSync } from 'node:crypto';
import {
  allocSplitRing, DriverQueue, FeatureSet, type GuestMemory, isPow2, negotiateFeatures, netHdrSize, PageAllocator,
  SplitRing, VIRTIO_CONFIG_S, VIRTIO_F, VIRTIO_NET_F, type VirtioPciRegs,
} from '../../virtio/index.ts';
import { ControlVq, type CtrlWait } from './ctrl.ts';
import { VirtnetError } from './errors.ts';
import { ReceiveQueue, type NetifReceive, type XdpExceptionTrace } from './receive.ts';
import { ETH_DATA_LEN, RxBufferPool, rxBufferGeometry } from './rx-buffers.ts';
import { VirtnetStats } from './stats.ts';
import { VirtnetDriver } from './virtnet.ts';
import { VirtioPciModernDevice } from './virtio-pci-modern.ts';
import { SendQueue } from './xmit.ts';

/** The bits this driver understands (the caller may add more, e.g. vxo's offload bit). */
export const VIRTNET_FEATURES: readonly number[] = [
  VIRTIO_F.VIRTIO_F_VERSION_1,
  VIRTIO_F.VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_F.VIRTIO_RING_F_INDIRECT_DESC,
  VIRTIO_NET_F.VIRTIO_NET_F_MAC,
  VIRTIO_NET_F.VIRTIO_NET_F_STATUS,
  VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F.VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F.VIRTIO_NET_F_MTU,
];

/** Queue indices of one queue pair: receiveq1, transmitq1, controlq. */
export const VIRTNET_QUEUE = { RX: 0, TX: 1, CTRL: 2 } as const;

/** ETH_MIN_MTU: a device MTU below it is refused, as virtnet_probe does. */
export const ETH_MIN_MTU = 68;

export interface VirtnetProbeOptions {
  mem: GuestMemory;
  /** The device's registers: the device model itself, or an MmioTrapClient in a worker. */
  regs: VirtioPciRegs;
  /** Kicks queue `queueIndex` (data queues go to vhost's doorbell, the control queue to QEMU's). */
  notify: (queueIndex: number) => void;
  /** How send() waits for the device's answer (see CtrlWait); without it send() throws EINVAL. */
  waitCtrl?: CtrlWait;
  /** Where rings and buffers come from; by default a fresh allocator over all of `mem` but page 0. */
  pages?: PageAllocator;
  /** Upper bound on the rx and tx queue sizes (rounded down to a power of two); default the device's maximum. */
  queueSize?: number;
  /** Feature bits to accept besides VIRTNET_FEATURES when the device offers them. */
  extraFeatures?: readonly number[];
  /** The guest stack: frames without a program, or passed by it. */
  netifReceive?: NetifReceive;
  traceXdpException?: XdpExceptionTrace;
}

const S = VIRTIO_CONFIG_S;

export function virtnet_probe(o: VirtnetProbeOptions): VirtnetDriver {
  const mem = o.mem;
  const pages = o.pages ?? new PageAllocator(mem);
  const dev = new VirtioPciModernDevice(o.regs);
  const allocations: number[] = [];
  let cvq: ControlVq | undefined;
  // vp_reset: the device answers a status write synchronously, so one read-back suffices.
  dev.vp_modern_set_status(0);
  if (dev.vp_modern_get_status() !== 0) throw new VirtnetError('ENODEV', 'device does not complete reset');
  try {
    dev.virtio_add_status(S.VIRTIO_CONFIG_S_ACKNOWLEDGE);
    dev.virtio_add_status(S.VIRTIO_CONFIG_S_DRIVER);

    const deviceFeatures = dev.vp_modern_get_features();
    const features = negotiateFeatures(deviceFeatures, FeatureSet.of(...VIRTNET_FEATURES, ...(o.extraFeatures ?? [])));
    // vp_finalize_features: a modern (virtio-pci 1.x) device must offer VERSION_1.
    if (!features.has(VIRTIO_F.VIRTIO_F_VERSION_1)) {
      throw new VirtnetError('EINVAL', `device uses the modern interface but does not offer VIRTIO_F_VERSION_1 (offers ${deviceFeatures.toString()})`);
    }
    dev.vp_modern_set_features(features);
    // virtio_features_ok: the device says no by leaving FEATURES_OK clear.
    dev.virtio_add_status(S.VIRTIO_CONFIG_S_FEATURES_OK);
    if ((dev.vp_modern_get_status() & S.VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
      throw new VirtnetError('ENODEV', `device refuses features ${features.toString()}`);
    }

    const config = dev.virtnet_read_config(features);
    const mtu = config.mtu ?? ETH_DATA_LEN;
    if (mtu < ETH_MIN_MTU) throw new VirtnetError('EINVAL', `device MTU ${mtu} is below ${ETH_MIN_MTU}`);
    const mac = config.mac ?? randomEtherAddr();
    const hdrLen = netHdrSize(features);
    const eventIdx = features.has(VIRTIO_F.VIRTIO_RING_F_EVENT_IDX);
    const indirect = features.has(VIRTIO_F.VIRTIO_RING_F_INDIRECT_DESC);
    const hasCvq = features.has(VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ);

    // init_vqs / virtnet_find_vqs
    const numQueues = dev.vp_modern_get_num_queues();
    const wanted = hasCvq ? 3 : 2;
    if (numQueues < wanted) throw new VirtnetError('ENOENT', `device has ${numQueues} queues, the driver needs ${wanted}`);
    const setupVq = (index: number, name: string, limit: number | undefined): DriverQueue<number> => {
      const max = dev.vp_modern_get_queue_size(index);
      if (max === 0 || dev.vp_modern_get_queue_enable(index)) throw new VirtnetError('ENOENT', `queue ${index} (${name}) is missing or already enabled`);
      let size = floorPow2(Math.min(max, limit ?? max));
      if (size !== max) {
        dev.vp_modern_set_queue_size(index, size);
        size = dev.vp_modern_get_queue_size(index);
      }
      if (!isPow2(size)) throw new VirtnetError('EINVAL', `queue ${index} (${name}): device reports size ${size}`);
      const layout = allocRing(mem, pages, size, allocations);
      dev.vp_modern_queue_address(index, layout.desc, layout.avail, layout.used);
      dev.vp_modern_set_queue_enable(index, true);
      return new DriverQueue<number>(mem, new SplitRing(mem, layout), { name, eventIdx, indirect, pages });
    };
    if (o.queueSize !== undefined && !(Number.isInteger(o.queueSize) && o.queueSize >= 1)) {
      throw new VirtnetError('EINVAL', `queue size limit ${o.queueSize}`);
    }
    const rxVq = setupVq(VIRTNET_QUEUE.RX, 'input.0', o.queueSize);
    const txVq = setupVq(VIRTNET_QUEUE.TX, 'output.0', o.queueSize);
    const ctrlVq = hasCvq ? setupVq(VIRTNET_QUEUE.CTRL, 'control', undefined) : undefined;

    // Enough buffers for a full rx ring plus a full tx ring of XDP_TX frames: after a refill
    // the rx ring is always full again, however many frames the device has yet to send.
    const stats = new VirtnetStats();
    const pool = new RxBufferPool(mem, pages, rxVq.ring.size + txVq.ring.size, rxBufferGeometry(mtu, hdrLen));
    allocations.push(pool.base);
    const sq = new SendQueue(txVq, mem, pool, stats, () => o.notify(VIRTNET_QUEUE.TX));
    const rq = new ReceiveQueue(rxVq, mem, pool, sq, stats, () => o.notify(VIRTNET_QUEUE.RX), {
      mergeable: features.has(VIRTIO_NET_F.VIRTIO_NET_F_MRG_RXBUF),
      netifReceive: o.netifReceive,
      traceXdpException: o.traceXdpException,
    });
    cvq = ctrlVq && new ControlVq(ctrlVq, mem, pages, stats, () => o.notify(VIRTNET_QUEUE.CTRL), o.waitCtrl);

    // virtio_device_ready. The device hands the data queues to vhost here, so no buffer is
    // published before it: a device starts from the ring's index as it finds it.
    dev.virtio_add_status(S.VIRTIO_CONFIG_S_DRIVER_OK);
    const status = dev.vp_modern_get_status();
    if ((status & S.VIRTIO_CONFIG_S_DRIVER_OK) === 0 || (status & S.VIRTIO_CONFIG_S_NEEDS_RESET) !== 0) {
      throw new VirtnetError('EIO', `device did not go live (status 0x${status.toString(16)})`);
    }
    const driver = new VirtnetDriver({
      mem, pages, dev, deviceFeatures, features, mac, mtu, linkStatus: config.status, hdrLen, pool, rq, sq, cvq, stats, allocations,
    });
    // virtnet_open: the first fill, published once and kicked if the device wants it.
    rq.try_fill_recv();
    return driver;
  } catch (e) {
    try {
      dev.virtio_add_status(S.VIRTIO_CONFIG_S_FAILED);
    } finally {
      cvq?.release();
      for (const gpa of allocations) pages.freeRange(gpa);
    }
    throw e;
  }
}

function allocRing(mem: GuestMemory, pages: PageAllocator, size: number, allocations: number[]) {
  try {
    const layout = allocSplitRing(mem, pages, size);
    allocations.push(layout.desc);
    return layout;
  } catch (e) {
    throw new VirtnetError('ENOMEM', `no guest memory for a ring of ${size}`, { cause: e });
  }
}

function floorPow2(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/** eth_hw_addr_random: unicast, locally administered. */
function randomEtherAddr(): Uint8Array {
  const mac = randomFillSync(new Uint8Array(6));
  mac[0] = (mac[0]! & 0xfe) | 0x02;
  return mac;
}
