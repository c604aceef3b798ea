// The vxo package. The eBPF engine is complete today; virtio, the workers and the offload protocol
// are exported from here as they land.
export * from './bpf-vm/index.ts';
