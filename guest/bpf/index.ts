// guest/bpf: the guest kernel's BPF layer (a bpf()-like API over maps and programs, offload to a
// device), the virtio_net driver's BPF part (VirtnetBpf: ndo_bpf, the verifier's setup() hook,
// map ops over the control queue), and control-queue channels.
export { GuestBpfError, GUEST_ERRNO, guestErrnoCode, type GuestErrnoName, type GuestErrnoCode } from './errors.ts';
export { sendEbpfCommand, type CtrlChannel, type CtrlReply } from './ctrl-channel.ts';
export { CtrlVqChannel, type CtrlVqChannelOptions } from './ctrl-vq-channel.ts';
export {
  BPF_NETDEV_COMMAND, XDP_FLAGS, XDP_FLAGS_MODES,
  type BpfMapDevOps, type BpfNetdev, type BpfProgOffloadOps, type NetdevBpf, type ProgLoadState,
} from './netdev.ts';
export { FdSnapshot, type GuestMap, type GuestProg } from './objects.ts';
export { OffloadedMap } from './offloaded-map.ts';
export { XdpAttachState } from './xdp-attach.ts';
export { VirtnetBpf, VirtnetBoundProg, VirtnetMap, type VirtnetBpfOptions } from './virtnet-bpf.ts';
export { GuestBpf, type MapCreateAttr, type ProgLoadAttr } from './guest-bpf.ts';
export { loadObject, loadObjectForOffload, type LoadedObject, type LoadObjectOptions } from './object-loader.ts';
// The wire side, for tests that build commands by hand.
export {
  ebpfCmd, readEbpfReply, decodeEbpfResult, encodeEbpfProgCmd, decodeEbpfProgCmd, encodeEbpfMapCmd, decodeEbpfMapCmd,
  ebpfProgTag, VIRTIO_NET_CTRL_EBPF, VIRTIO_NET_CTRL_EBPF_CMD, VIRTIO_NET_BPF_PROG_CMD, VIRTIO_NET_BPF_MAP_CMD, VIRTIO_NET_F_VXO,
  type EbpfCtrlRequest, type EbpfMapRef, type EbpfReply,
} from '../../virtio/index.ts';
