// The vxo package: the eBPF engine (also alone as 'vxo/bpf-vm'), the virtio and offload device
// model for users' own tests, the guest's BPF layer, the error classes every layer throws, and the
// scenarios (one case, the RFC's table) as functions. Nothing here starts a worker or loads the
// report until a scenario function is called.
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

// The guest kernel's BPF layer: maps and programs offloaded over a control channel (the device
// model above, or the guest driver's control virtqueue).
export {
  VirtnetBpf, VirtnetBoundProg, VirtnetMap, GuestBpf, GuestBpfError, GUEST_ERRNO, CtrlVqChannel,
  loadObject, loadObjectForOffload,
  type VirtnetBpfOptions, type CtrlChannel, type CtrlReply, type MapCreateAttr, type ProgLoadAttr, type LoadedObject,
  type LoadObjectOptions,
} from './guest/bpf/index.ts';

// Every layer's typed errors, each with a stable `code` (bpf-vm's are exported above).
export { VirtioError, RingError, type VirtioErrorCode, type RingErrorCode } from './virtio/errors.ts';
export { EbpfCtrlDecodeError } from './virtio/ctrl-ebpf.ts';
export { TunError, type TunErrorCode } from './tun/errors.ts';
export { VirtnetError } from './guest/virtio-net/errors.ts';
export { HostNetError, PcapError } from './host/net/errors.ts';
export { OffloadError } from './host/offload/errors.ts';
export { ReportError } from './scenarios/report/errors.ts';
export { RunError, RUN_ERROR_CODES, isRunFailure, type RunErrorCode } from './scenarios/run/run-error.ts';
export { WorkerFailed } from './scenarios/run/worker-failed.ts';

// The scenarios: the same objects as `vxo run --json` and `vxo table --json`.
export {
  runScenario, runRfcTable,
  type ScenarioOptions, type TableOptions, type TrafficOptions, type RunJson, type TableJson, type RunMode, type CapturePoint,
} from './scenarios/api.ts';
export {
  runFlood, runNetperf,
  type FloodOptions, type NetperfOptions, type FloodJson, type NetperfJson, type FloodKind, type NetperfTest, type NetperfDirection,
  type ScenarioBpf, type ScenarioBpfReport, type GuestXdpOption, type BpfAttachSpec, type BpfAttachReport, type MapInit,
} from './scenarios/api.ts';

// A tubular-like socket dispatcher (SK_LOOKUP + LPM_TRIE + SOCKMAP) on a network namespace of vxo/net.
export { Dispatcher, DISPATCH_OBJECT, MAX_DESTINATIONS, type Destination, type DestinationInfo, type DispatcherOptions } from './scenarios/dispatch/dispatcher.ts';
export { parsePrefix, encodeBindKey, bindingText, type Binding, type DispatchProtocol } from './scenarios/dispatch/binding.ts';
export { METRIC_NAMES, metricsBalanced, type DispatchMetrics, type DestMetrics } from './scenarios/dispatch/metrics.ts';
export { DispatchError } from './scenarios/dispatch/errors.ts';
