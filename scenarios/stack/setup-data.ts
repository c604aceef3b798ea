// What a network scenario tells each machine's setup module (GuestNetSpec.setupData /
// HostNetSpec.setupData): its addresses, its neighbours, its sysctls and the application it runs.
// Structured-clone friendly: plain data plus one shared cell through which the runner asks for
// the stack's report (counters by nstat name, the ss listing) when the measured window closes.
import type { NetperfTest } from '../../net/apps/netserver.ts';
import type { BpfAttachReport, BpfAttachSpec } from './bpf-attach.ts';

/** The scenarios' link: the host's br0 and the guest's eth0 on one /24 and one /64. */
export const NET_ADDRS = {
  host4: '10.0.0.1', guest4: '10.0.0.2',
  host6: 'fd00::1', guest6: 'fd00::2',
  /** pktgen's source in the floods: a third machine on the wire behind the NIC. */
  flood4: '10.0.0.3', flood6: 'fd00::3',
  floodMac: '02:00:00:00:00:01',
  /** The guest's MAC (QEMU's default) and br0's. */
  guestMac: '52:54:00:12:34:56',
  hostMac: '02:00:00:00:01:fe',
} as const;

/** The ports the scenarios' applications use: discard (9) for the UDP sink, 80 for the listener, netperf's data port. */
export const NET_PORTS = { udpSink: 9, synListener: 80, netperfData: 12866 } as const;

export type StackRole = 'none' | 'udp-sink' | 'syn-listener' | 'netserver' | 'netperf';

/** The report cell's values (StackSetupData.report[0]). */
export const REPORT = {
  /** Nothing asked. */
  IDLE: 0,
  /** The runner asks: post the report now (the window just closed). */
  ASK: 1,
  /** Posted; from now on counters() carries every nstat counter. */
  POSTED: 2,
} as const;

export interface NeighSpec {
  family: 4 | 6;
  addr: string;
  mac: string;
}

export interface StackSetupData {
  role: StackRole;
  /** 4 or 6: the application's socket family. */
  family: 4 | 6;
  /** This machine's addresses on its device (/24 and /64). */
  addr4: string;
  addr6: string;
  /** Permanent neighbour entries (`ip neigh add ... nud permanent`): no ARP or ND in the runs. */
  neigh: NeighSpec[];
  /** net.ipv4.* sysctls by their proc name without the prefix (tcp_syncookies: 2). */
  sysctls?: Record<string, number>;
  /** The application's port (the sink's, the listener's, netperf's data port). */
  port: number;
  /** netperf's side: the port it connects to, when not `port` (a service port BPF steers to netserver). */
  peerPort?: number;
  /** listen(2)'s backlog for the listener and netserver. */
  backlog?: number;
  netperf?: {
    test: NetperfTest;
    /** STREAM: the send size (-m); RR: the request size (-r req,). */
    size: number;
    /** RR: the response size (-r ,rsp). */
    responseSize: number;
    /** netperf's side: the peer's address (netserver's machine). */
    peer: string;
  };
  /** BPF programs to attach once the application's socket exists (bpf-attach.ts), in order. */
  bpf?: BpfAttachSpec[];
  /** The engine those programs run on (default the JIT). */
  bpfEngine?: 'interp' | 'jit';
  /**
   * Extra IPv4 routes: `local` prefixes this machine owns (`ip route add local P dev lo`, as a
   * dispatcher's host owns its service prefixes), `via` prefixes reached through a gateway.
   */
  routes?: { local?: string[]; via?: { prefix: string; gw: string }[] };
  /**
   * false: this machine's kernel has no SK_LOOKUP hook at all (the sk_lookup cover letters'
   * 5.6.3 baseline, net/core/sk-lookup.ts sk_lookup_hook_set); absent or true: it has the hook.
   */
  skLookupHook?: boolean;
  /** Shared cell: REPORT.* (an Int32Array over a SharedArrayBuffer). */
  report?: Int32Array;
  /**
   * The application's counters, APP_COUNTER_NAMES in order, written after each loop round's poll
   * (a Float64Array over a SharedArrayBuffer): the runner's window reads them whatever the
   * machine loop's own publication policy.
   */
  live?: Float64Array;
}

/** The stack's report as a machine posts it: {type: 'stack-report', machine, nstat, sockets, ss}. */
export interface StackReport {
  type: 'stack-report';
  machine: 'guest' | 'host';
  /** Non-zero counters by nstat name (TcpInSegs, UdpInDatagrams, TcpExtSyncookiesSent, ...). */
  nstat: Record<string, number>;
  sockets: import('../../net/ipv4/inet-diag.ts').InetDiagEntry[];
  /** What BPF the machine attached, and its maps (when the setup attached any). */
  bpf?: BpfAttachReport;
  /** The `ss -tuan -e`-like text. */
  ss: string;
}

/** The application counters every role reports (all present, 0 where they do not apply), so live counters have fixed names. */
export const APP_COUNTER_NAMES = [
  'app_rx_packets', 'app_rx_bytes', 'app_rx_errors', 'app_rcvq', 'app_syncookies_sent', 'app_listen_drops',
  'app_np_sent', 'app_np_bytes_sent', 'app_np_send_errors', 'app_np_transactions', 'app_np_rx_messages', 'app_np_rx_bytes',
  'app_np_responses', 'app_np_connected',
  /** The data socket's SO_SNDBUF (netperf's side) and SO_RCVBUF (netserver's), as netperf reports them. */
  'app_np_sndbuf', 'app_np_rcvbuf',
  /** netperf's side: connect() calls and the ones that failed (TCP_CRR: one per transaction); 0 until the role sets them. */
  'app_np_connects', 'app_np_conn_errors',
] as const;
