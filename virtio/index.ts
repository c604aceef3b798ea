// virtio/: split virtqueues over a guest-memory SharedArrayBuffer, doorbells, features, device
// status, virtio_net_hdr and control-queue codecs. Imports nothing else of vxo's.
export * from './errors.ts';
export * from './guest-memory.ts';
export * from './page-allocator.ts';
export * from './split-ring.ts';
export * from './desc-chain.ts';
export * from './driver-queue.ts';
export * from './device-queue.ts';
export * from './doorbell.ts';
export * from './shared-cells.ts';
export * from './features.ts';
export * from './status.ts';
export * from './net-hdr.ts';
export * from './ctrl.ts';
export * from './pci-regs.ts';
export * from './mmio-trap.ts';
export * from './shm-counters.ts';
export * from './ctrl-ebpf.ts';
export * from './frame-capture.ts';
export * from './thread-self.ts';
export * from './cpu-probe.ts';
