// tun/'s public surface: the host tap (ptr_ring, frame pool and page pool, the vhost wake-up, the
// producer side, recvmsg with the offloaded program, the Rx path).
export { TunError, type TunErrorCode } from './errors.ts';
export { PtrRing, PTR_RING_INDEX, TUN_RING_SIZE, PTR_RING_MAX, ptrRingBytes, type SharedPtrRing } from './ptr-ring.ts';
export {
  FramePool, FRAME, FRAME_POOL_DEFAULTS, ETH_MAX_FRAME, SKB_SHARED_INFO_SIZE, SKB_HEAD_FIELDS, SKB_HEAD_WORDS, META_STRIDE, framePoolBytes,
  type FramePoolOptions, type SharedFramePool,
} from './frame-pool.ts';
export { PagePool, PagePoolRemote, PP_ALLOC_CACHE_REFILL, PP_ALLOC_CACHE_SIZE, type PagePoolAccounting } from './page-pool.ts';
export { SockWait, type SharedSockWait, type SockWaitResult } from './sock-wait.ts';
export { TunXmit, XDP_XMIT, type TunXmitOptions, type TunXmitStats } from './tun-xmit.ts';
export { TunRecv, MAX_TAP_BATCH, BATCH_HIST_BUCKETS, type TunRecvOptions, type TunRecvStats } from './tun-recvmsg.ts';
export { TunRx, type TunRxOptions, type TunRxStats, type NetifRx } from './tun-rx.ts';
export { copyFrameWords } from './word-copy.ts';
export { openOffloadedProgram, type OffloadedProgramTransfer } from './offloaded-xdp.ts';
export { tapXdpFromObject, tapXdpOffloaded, type TapXdpObject, type EngineName } from './tap-xdp.ts';
export {
  SKB, SKB_KIND, PACKET_TYPE, CHECKSUM, SKB_HASH_FLAG, NET_SKB_PAD, ETH_HLEN, build_skb, skb_push, skb_pull, skbFields,
} from './skbuff.ts';
export { FlowDissector, reciprocal_scale } from './flow-dissector.ts';
export {
  SoftnetBacklog, BACKLOG_SLOTS, BACKLOG_SLOT_SIZE, createHostBacklog, wakeHostBacklog,
  type SharedSoftnetBacklog, type SharedHostBacklog, type SoftnetBacklogStats,
} from './backlog.ts';
