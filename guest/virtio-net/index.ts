// guest/virtio-net: the guest kernel's virtio_net driver (probe, NAPI rx with native XDP,
// zero-copy XDP_TX, control queue, counters) and the guest's run loop.
export { VirtnetError, type VirtnetErrorCode } from './errors.ts';
export { VirtioPciModernDevice, type VirtioNetConfig } from './virtio-pci-modern.ts';
export {
  ETH_DATA_LEN, RxBufferPool, rxBufferGeometry, VIRTIO_XDP_HEADROOM, VIRTNET_BUF_ALIGN, VIRTNET_FRAME_OVERHEAD,
  VIRTNET_XDP_TAILROOM, type RxBufferGeometry,
} from './rx-buffers.ts';
export { VIRTNET_STAT_NAMES, VirtnetStats, type VirtnetStatName, type VirtnetStatsRecord } from './stats.ts';
export { ReceiveQueue, type NetifReceive, type XdpExceptionTrace } from './receive.ts';
export { SendQueue, MAX_SKB_FRAGS, VIRTNET_TX_STOP_THRESHOLD } from './xmit.ts';
export { VirtnetNetDevice, virtnet_netdev, start_xmit, virtnet_receive_skb } from './start-xmit.ts';
// The stack itself (GuestStack, attachGuestStack: net/'s Net and everything it loads) is imported
// from './stack.ts' by whoever gives the guest a stack, so the XDP runs do not load it.
export type { GuestNetSpec, GuestStackOptions, LoopStack, StackApp, StackSetup, StackSetupContext } from './stack.ts';
export { ControlVq, ctrlWaitOnDoorbell, type CtrlChannel, type CtrlReply, type CtrlWait } from './ctrl.ts';
export { NAPI, NAPI_POLL_WEIGHT, VirtnetDriver, type NapiResult } from './virtnet.ts';
export { ETH_MIN_MTU, VIRTNET_FEATURES, VIRTNET_QUEUE, virtnet_probe, type VirtnetProbeOptions } from './probe.ts';
export { GUEST_STAT_NAMES, GuestLoop, GuestLoopStats, type GuestLoopOptions } from './guest-loop.ts';
export { loadNativeXdp, type NativeXdp, type NativeXdpSpec } from './xdp-prog.ts';
export type { GuestWorkerData, GuestWorkerMessage } from './worker-data.ts';
