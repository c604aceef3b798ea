// The per-netns MIB counters (include/uapi/linux/snmp.h), each field named as /proc/net/snmp,
// /proc/net/snmp6 and /proc/net/netstat print it, so `vxo run --json` and a test read `InSegs`,
// `UdpNoPorts` (Udp's NoPorts) or `SyncookiesSent` just as `nstat` shows them. A kernel developer
// grepping for TCP_MIB_INSEGS finds the field by its proc name in the comment of each class.

/** Ip: (IPSTATS_MIB_*), /proc/net/snmp. */
export class IpMib {
  Forwarding = 2;
  DefaultTTL = 64;
  InReceives = 0;
  InHdrErrors = 0;
  InAddrErrors = 0;
  ForwDatagrams = 0;
  InUnknownProtos = 0;
  InDiscards = 0;
  InDelivers = 0;
  OutRequests = 0;
  OutDiscards = 0;
  OutNoRoutes = 0;
  ReasmTimeout = 0;
  ReasmReqds = 0;
  ReasmOKs = 0;
  ReasmFails = 0;
  FragOKs = 0;
  FragFails = 0;
  FragCreates = 0;
  OutTransmits = 0;
}

/** IpExt: (IPSTATS_MIB_* extended), /proc/net/netstat. */
export class IpExtMib {
  InNoRoutes = 0;
  InTruncatedPkts = 0;
  InMcastPkts = 0;
  OutMcastPkts = 0;
  InBcastPkts = 0;
  OutBcastPkts = 0;
  InOctets = 0;
  OutOctets = 0;
  InCsumErrors = 0;
}

/** Icmp: (ICMP_MIB_*), /proc/net/snmp. Per-type counts are IcmpMsg's InType/OutType. */
export class IcmpMib {
  InMsgs = 0;
  InErrors = 0;
  InCsumErrors = 0;
  InDestUnreachs = 0;
  InTimeExcds = 0;
  InParmProbs = 0;
  InEchos = 0;
  InEchoReps = 0;
  OutMsgs = 0;
  OutErrors = 0;
  OutRateLimitGlobal = 0;
  OutRateLimitHost = 0;
  OutDestUnreachs = 0;
  OutTimeExcds = 0;
  OutEchos = 0;
  OutEchoReps = 0;
  /** IcmpMsg: InType<N>/OutType<N>, by ICMP type. */
  readonly InType = new Float64Array(256);
  readonly OutType = new Float64Array(256);
}

/** Tcp: (TCP_MIB_*), /proc/net/snmp. CurrEstab is a gauge. */
export class TcpMib {
  RtoAlgorithm = 1;
  RtoMin = 200;
  RtoMax = 120000;
  MaxConn = -1;
  ActiveOpens = 0;
  PassiveOpens = 0;
  AttemptFails = 0;
  EstabResets = 0;
  CurrEstab = 0;
  InSegs = 0;
  OutSegs = 0;
  RetransSegs = 0;
  InErrs = 0;
  OutRsts = 0;
  InCsumErrors = 0;
}

/** Udp: and UdpLite: (UDP_MIB_*), /proc/net/snmp. */
export class UdpMib {
  InDatagrams = 0;
  NoPorts = 0;
  InErrors = 0;
  OutDatagrams = 0;
  RcvbufErrors = 0;
  SndbufErrors = 0;
  InCsumErrors = 0;
  IgnoredMulti = 0;
  MemErrors = 0;
}

/** TcpExt: (LINUX_MIB_*), /proc/net/netstat: the ones this stack counts. */
export class LinuxMib {
  SyncookiesSent = 0;
  SyncookiesRecv = 0;
  SyncookiesFailed = 0;
  EmbryonicRsts = 0;
  PruneCalled = 0;
  RcvPruned = 0;
  OfoPruned = 0;
  OutOfWindowIcmps = 0;
  TW = 0;
  TWRecycled = 0;
  TWKilled = 0;
  PAWSActive = 0;
  PAWSEstab = 0;
  DelayedACKs = 0;
  DelayedACKLocked = 0;
  DelayedACKLost = 0;
  ListenOverflows = 0;
  ListenDrops = 0;
  TCPHPHits = 0;
  TCPPureAcks = 0;
  TCPHPAcks = 0;
  TCPRenoRecovery = 0;
  TCPSackRecovery = 0;
  TCPSACKReneging = 0;
  TCPSACKReorder = 0;
  TCPRenoReorder = 0;
  TCPTSReorder = 0;
  TCPFullUndo = 0;
  TCPPartialUndo = 0;
  TCPDSACKUndo = 0;
  TCPLossUndo = 0;
  TCPLostRetransmit = 0;
  TCPRenoFailures = 0;
  TCPSackFailures = 0;
  TCPLossFailures = 0;
  TCPFastRetrans = 0;
  TCPSlowStartRetrans = 0;
  TCPTimeouts = 0;
  TCPLossProbes = 0;
  TCPLossProbeRecovery = 0;
  TCPRenoRecoveryFail = 0;
  TCPSackRecoveryFail = 0;
  TCPRcvCollapsed = 0;
  TCPDSACKOldSent = 0;
  TCPDSACKOfoSent = 0;
  TCPDSACKRecv = 0;
  TCPDSACKOfoRecv = 0;
  TCPAbortOnData = 0;
  TCPAbortOnClose = 0;
  TCPAbortOnMemory = 0;
  TCPAbortOnTimeout = 0;
  TCPAbortOnLinger = 0;
  TCPAbortFailed = 0;
  TCPMemoryPressures = 0;
  TCPSACKDiscard = 0;
  TCPDSACKIgnoredOld = 0;
  TCPDSACKIgnoredNoUndo = 0;
  TCPSpuriousRTOs = 0;
  TCPSackShifted = 0;
  TCPSackMerged = 0;
  TCPSackShiftFallback = 0;
  TCPBacklogDrop = 0;
  PFMemallocDrop = 0;
  TCPMinTTLDrop = 0;
  TCPDeferAcceptDrop = 0;
  IPReversePathFilter = 0;
  TCPTimeWaitOverflow = 0;
  TCPReqQFullDoCookies = 0;
  TCPReqQFullDrop = 0;
  TCPRetransFail = 0;
  TCPRcvCoalesce = 0;
  TCPOFOQueue = 0;
  TCPOFODrop = 0;
  TCPOFOMerge = 0;
  TCPChallengeACK = 0;
  TCPSYNChallenge = 0;
  TCPSpuriousRtxHostQueues = 0;
  TCPAutoCorking = 0;
  TCPFromZeroWindowAdv = 0;
  TCPToZeroWindowAdv = 0;
  TCPWantZeroWindowAdv = 0;
  TCPSynRetrans = 0;
  TCPOrigDataSent = 0;
  TCPHystartTrainDetect = 0;
  TCPHystartTrainCwnd = 0;
  TCPHystartDelayDetect = 0;
  TCPHystartDelayCwnd = 0;
  TCPACKSkippedSynRecv = 0;
  TCPACKSkippedPAWS = 0;
  TCPACKSkippedSeq = 0;
  TCPACKSkippedFinWait2 = 0;
  TCPACKSkippedTimeWait = 0;
  TCPACKSkippedChallenge = 0;
  TCPWinProbe = 0;
  TCPKeepAlive = 0;
  TCPDelivered = 0;
  TCPAckCompressed = 0;
  TCPZeroWindowDrop = 0;
  TCPRcvQDrop = 0;
  TCPWqueueTooBig = 0;
  TCPTimeoutRehash = 0;
  TCPDuplicateDataRehash = 0;
  TCPDSACKRecvSegs = 0;
  TCPDSACKIgnoredDubious = 0;
  TCPMigrateReqSuccess = 0;
  TCPMigrateReqFailure = 0;
}

/** Ip6: Icmp6: Udp6: (/proc/net/snmp6), the counters IPv6 keeps apart. */
export class Ipv6Mib {
  Ip6InReceives = 0;
  Ip6InHdrErrors = 0;
  Ip6InTooBigErrors = 0;
  Ip6InNoRoutes = 0;
  Ip6InAddrErrors = 0;
  Ip6InUnknownProtos = 0;
  Ip6InTruncatedPkts = 0;
  Ip6InDiscards = 0;
  Ip6InDelivers = 0;
  Ip6OutForwDatagrams = 0;
  Ip6OutRequests = 0;
  Ip6OutDiscards = 0;
  Ip6OutNoRoutes = 0;
  Ip6ReasmReqds = 0;
  Ip6ReasmFails = 0;
  Ip6InOctets = 0;
  Ip6OutOctets = 0;
  Ip6OutTransmits = 0;
  Icmp6InMsgs = 0;
  Icmp6InErrors = 0;
  Icmp6OutMsgs = 0;
  Icmp6OutErrors = 0;
  Icmp6InCsumErrors = 0;
  Icmp6InDestUnreachs = 0;
  Icmp6InEchos = 0;
  Icmp6InEchoReplies = 0;
  Icmp6InNeighborSolicits = 0;
  Icmp6InNeighborAdvertisements = 0;
  Icmp6OutDestUnreachs = 0;
  Icmp6OutEchos = 0;
  Icmp6OutEchoReplies = 0;
  Icmp6OutNeighborSolicits = 0;
  Icmp6OutNeighborAdvertisements = 0;
  Udp6InDatagrams = 0;
  Udp6NoPorts = 0;
  Udp6InErrors = 0;
  Udp6OutDatagrams = 0;
  Udp6RcvbufErrors = 0;
  Udp6SndbufErrors = 0;
  Udp6InCsumErrors = 0;
  Udp6IgnoredMulti = 0;
  Udp6MemErrors = 0;
}

/** struct netns_mib: every counter of one netns. */
export class NetnsMib {
  readonly ip = new IpMib();
  readonly ipext = new IpExtMib();
  readonly icmp = new IcmpMib();
  readonly tcp = new TcpMib();
  readonly udp = new UdpMib();
  readonly net = new LinuxMib();
  readonly ipv6 = new Ipv6Mib();
  /** ARP isn't in snmp.h; `ip -s neigh`-like counts the stack keeps for its neighbour tables. */
  readonly arp = { InRequests: 0, InReplies: 0, OutRequests: 0, OutReplies: 0, InErrors: 0, QueueDrops: 0 };
}

type Counters = Record<string, number>;
function plain(o: object): Counters {
  const r: Counters = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number') r[k] = v;
  return r;
}

/** The counters as /proc/net/snmp and /proc/net/netstat group them (the JSON a run reports). */
export function snmp_seq_show(mib: NetnsMib): Record<string, Counters> {
  const icmpMsg: Counters = {};
  for (let t = 0; t < 256; t++) {
    if (mib.icmp.InType[t]) icmpMsg[`InType${t}`] = mib.icmp.InType[t]!;
    if (mib.icmp.OutType[t]) icmpMsg[`OutType${t}`] = mib.icmp.OutType[t]!;
  }
  return {
    Ip: plain(mib.ip),
    IpExt: plain(mib.ipext),
    Icmp: plain(mib.icmp),
    IcmpMsg: icmpMsg,
    Tcp: plain(mib.tcp),
    Udp: plain(mib.udp),
    TcpExt: plain(mib.net),
    Ip6: plain(mib.ipv6),
    Arp: { ...mib.arp },
  };
}

/** Only the non-zero counters, as `nstat` prints them. */
export function nstat(mib: NetnsMib): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [group, counters] of Object.entries(snmp_seq_show(mib))) {
    for (const [k, v] of Object.entries(counters)) {
      if (v !== 0 && !['Forwarding', 'DefaultTTL', 'RtoAlgorithm', 'RtoMin', 'RtoMax', 'MaxConn'].includes(k)) {
        out[group === 'Ip6' ? k : group + k] = v;
      }
    }
  }
  return out;
}
