// host/offload: the device side of the offload RFC's control class (QEMU's virtio_net_handle_ebpf):
// host maps in shared memory with limits and opaque handles, the allow list and the host verifier
// gate, the attached program and its hand-off to the tap's worker, and bpftool-like introspection.
export { VirtioNetEbpf, VIRTIO_NET_EBPF_DEFAULTS, type VirtioNetEbpfOptions, type OffloadListener, type EbpfOutcome } from './virtio-net-ebpf.ts';
export { answerEbpfCtrl } from './ctrl-answer.ts';
export { OffloadError, errnoCode } from './errors.ts';
export { OFFLOAD_ALLOWED_HELPERS, findRefusedCall, helperLabel, type RefusedCall } from './allow-list.ts';
export { HostMapTable, OFFLOADABLE_MAP_TYPES, type HostMap, type MapTableLimits } from './map-table.ts';
export {
  loadOffloadedProgram, type OffloadedProgram, type OffloadedProgramTransfer, type OffloadedMapRef, type LoadLimits,
} from './offloaded-program.ts';
export { openOffloadedProgram } from '../../tun/index.ts';
export { showOffload, formatOffloadShow, type OffloadShow, type OffloadProgShow, type OffloadMapShow } from './show.ts';
// The wire side, for users' tests: typed builders and the result decoders.
export {
  ebpfCmd, readEbpfReply, decodeEbpfResult, encodeEbpfResult, encodeEbpfProgCmd, decodeEbpfProgCmd, encodeEbpfMapCmd, decodeEbpfMapCmd,
  ebpfProgTag, VIRTIO_NET_CTRL_EBPF, VIRTIO_NET_CTRL_EBPF_CMD, VIRTIO_NET_BPF_PROG_CMD, VIRTIO_NET_BPF_MAP_CMD, VIRTIO_NET_F_VXO,
  type EbpfCtrlRequest, type EbpfMapRef, type EbpfReply,
} from '../../virtio/index.ts';
