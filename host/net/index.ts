// host/net's public surface: the benchmark's host network (pktgen, capture files, the NIC's
// receive path with its XDP program, the devmap bulk queue, the bridge, and their composition).
export { HostNetError, PcapError, type HostNetErrorCode, type PcapErrorCode } from './errors.ts';
export {
  readPcap, readPcapFile, writePcap, PcapWriter, PCAP_MAGIC, LINKTYPE, PCAP_VERSION, PCAP_FILE_HEADER_LEN,
  PCAP_RECORD_HEADER_LEN, PCAP_MAX_SNAPLEN, PCAP_DEFAULT_SNAPLEN,
  type PcapHeader, type PcapPacket, type PcapFile, type PcapReadOptions, type PcapWriterOptions, type PcapSink,
} from './pcap.ts';
export { readPcapng, PCAPNG_BLOCK, PCAPNG_BYTE_ORDER_MAGIC, PCAPNG_VERSION, PCAPNG_OPT } from './pcapng.ts';
export {
  Pktgen, PKTGEN_DEFAULTS, PKTGEN_LIMITS, PKTGEN_OFF, PKTGEN_MAGIC, ETH_ZLEN, ETH_FRAME_LEN, ipv4Checksum, parseMac, parseIpv4,
  type PktgenOptions, type PktgenFlowField, type PktgenStats,
} from './pktgen.ts';
export { NetDevices, tapDevice, type NetDevice } from './netdev.ts';
export { eth_type_trans, macHalves, type MacHalves } from './eth.ts';
export { devQueueXmit } from './dev-queue-xmit.ts';
export { XdpBulkQueue, DEV_MAP_BULK_SIZE } from './xdp-bulk-queue.ts';
export { Nic, NAPI_POLL_WEIGHT, type NicOptions, type NicStats, type NetifReceive } from './nic.ts';
export { Bridge, BR_FDB_MAX, type BridgeStats } from './bridge.ts';
export { Fdb, FDB_LEARN } from './fdb.ts';
export { HostStackPort, BridgeDevice, BR0_DEFAULT_MAC, type HostStackPortStats } from './host-port.ts';
// HostStack (net/'s Net and everything it loads) is imported from './host-stack.ts' by whoever
// gives the host a stack, so the XDP runs do not load it.
export type { HostNetSpec, HostStackApp, HostStackSetup, HostStackSetupContext } from './host-stack.ts';
// tc (net's cls_bpf under it) likewise: HostTc from './tc.ts', HostTcAttachments from './tc-attach.ts',
// the runner's view from './tc-show.ts'; the types are here.
export type { HostTc, HostTcDev, HostTcHookStats, HostTcAttachOptions, HostTcHookReport, HostTcFilterReport, HostTcTarget } from './tc.ts';
export type { HostTcSpec, HostTcMapInit, HostTcReport } from './tc-attach.ts';
export type { HostTcMapDump } from './tc-show.ts';
export { PoolSkb, TcSkbState } from './tc-skb.ts';
export {
  HostNet, HOST_NET_DEFAULTS, type TapRxStats, type HostNetCase, type HostNetOptions, type HostNetStats, type HostNetConservation,
} from './host-net.ts';
