// What the guest worker (guest/worker.ts) is started with, and what it posts back. Everything is
// structured-clone friendly: shared memory travels as SharedArrayBuffer-backed handles.
import type { SharedCounters, SharedDoorbell, SharedFrameCapture, SharedGuestMemory, SharedMmioTrap } from '../../virtio/index.ts';
import type { SharedMapState } from '../../bpf-vm/index.ts';
import type { NativeXdpSpec } from './xdp-prog.ts';
import type { GuestNetSpec } from './stack.ts';

export interface GuestWorkerData {
  /** Guest memory (GuestMemory.share()). */
  mem: SharedGuestMemory;
  /** The guest page allocator's range in guest memory; default all of it but page 0. */
  pages?: { start?: number; end?: number };
  /** The device's registers across threads (createMmioTrap; the device thread runs MmioTrapServer). */
  mmio: SharedMmioTrap;
  doorbells: {
    /** Interrupts: the device side rings it, the guest sleeps on it. */
    irq: SharedDoorbell;
    /** Kicks of the data queues (rx 0, tx 1): vhost sleeps on it. */
    vhost: SharedDoorbell;
    /** Kicks of the control queue (2): QEMU sleeps on it. */
    qemu: SharedDoorbell;
  };
  /** The run loop stops when stop[0] !== 0 (ring irq after setting it to stop at once). */
  stop: Int32Array;
  /** Live counters (ShmCounters.share(), names from GUEST_STAT_NAMES or any subset). */
  counters?: SharedCounters;
  /** Polls between counter publications (default 16; also published before every sleep). */
  publishEvery?: number;
  /**
   * The XDP program to attach after probing, none when undefined: `native` runs it in the driver
   * (XDP_FLAGS_DRV_MODE), `offload` sends it to the device (XDP_FLAGS_HW_MODE). Default native.
   */
  xdp?: NativeXdpSpec & { mode?: 'native' | 'offload'; fallbackNative?: boolean };
  /** Upper bound on the rx/tx queue sizes (default the device's maximum). */
  queueSize?: number;
  /** Extra feature bits to accept (e.g. vxo's offload bit). */
  extraFeatures?: number[];
  /** Control command timeout, ms (default 5000). */
  ctrlTimeoutMs?: number;
  /** Longest idle sleep of the run loop, ms (default 50). */
  waitMs?: number;
  /** Capture frames as the driver receives them (--pcap-at guest). */
  capture?: SharedFrameCapture;
  /** Capture frames at the stack's eth0, both directions (--pcap-at guest-stack; needs `net`). */
  stackCapture?: SharedFrameCapture;
  /**
   * Give the guest a network stack (net/) above virtio_net: a Net with eth0 registered, frames
   * the driver delivers go up through netif_receive_skb, the stack transmits through start_xmit,
   * and the loop runs its timers and the setup module's application. None: delivered frames are
   * only counted (the XDP benchmarks).
   */
  net?: GuestNetSpec;
}

export type GuestWorkerMessage =
  | {
    type: 'ready';
    /** The guest thread's kernel task id, for the runner's CPU accounting (undefined without procfs). */
    tid: number | undefined;
    mac: number[];
    /** Negotiated features as the two u32 halves. */
    features: { lo: number; hi: number };
    rxQueueSize: number;
    txQueueSize: number;
    /** The native program's maps (empty without one). */
    maps: Record<string, SharedMapState>;
    /** Offload was refused (EOPNOTSUPP) and the program runs natively instead (xdp.fallbackNative). */
    offloadRefused?: string;
  }
  | { type: 'done'; counters: Record<string, number>; queued: { rx_used_pending: number; tx_not_consumed: number } };
