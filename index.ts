// The vxo package. The eBPF engine is complete today; virtio, the workers and the offload protocol
// are exported from here as they land.
export * from './bpf-vm/index.ts';

// The offload device in-process, for users' own tests (no workers): create it, build control
// commands with the typed builders, submit them over its control virtqueue, read ack, errno and
// result; the host side (maps, the offloaded program, bpftool-like show) stays reachable.
export {
  createDeviceModel, DeviceModel, DeviceModelError, offloadInsns, u32le, u64le, readU64le,
  type DeviceModelOptions, type DeviceReply, type XdpRunResult,
} from './host/offload/device-model.ts';
export {
  ebpfCmd, readEbpfReply, decodeEbpfResult, decodeEbpfHandle, encodeEbpfProgCmd, decodeEbpfProgCmd, encodeEbpfMapCmd,
  decodeEbpfMapCmd, ebpfMapBufLen, ebpfProgTag, VIRTIO_NET_ACK, VIRTIO_NET_CTRL_EBPF, VIRTIO_NET_CTRL_EBPF_CMD,
  VIRTIO_NET_BPF_PROG_CMD, VIRTIO_NET_BPF_MAP_CMD, VIRTIO_NET_F_VXO,
  type EbpfCtrlRequest, type EbpfMapRef, type EbpfReply, type EbpfCtrlResult, type EbpfProgMeta, type EbpfMapMeta,
} from './virtio/index.ts';
export {
  VirtioNetEbpf, formatOffloadShow,
  type VirtioNetEbpfOptions, type OffloadListener, type OffloadedProgram, type HostMap,
  type OffloadShow, type OffloadProgShow, type OffloadMapShow,
} from './host/offload/index.ts';
