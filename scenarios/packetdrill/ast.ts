// A parsed packetdrill script: the options at its head, then events, each an event time and one
// action (a packet in or out, a system call, a shell command). Numbers are as the script wrote
// them: sequence numbers are script-relative and times are microseconds of script time.
import type { Loc } from './errors.ts';

/**
 * When an event happens. `relative` is from the previous event ("+0.1"), `any` is "*" (any time,
 * outbound packets only), the ranges are "0.1~0.2" and "+0.1~+0.2" (outbound packets only).
 */
export type EventTime =
  | { kind: 'absolute'; usecs: number }
  | { kind: 'relative'; usecs: number }
  | { kind: 'any' }
  | { kind: 'absolute_range'; usecs: number; end: number }
  | { kind: 'relative_range'; usecs: number; end: number };

export type TcpOption =
  | { kind: 'nop' }
  | { kind: 'eol' }
  | { kind: 'mss'; mss: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackOK' }
  | { kind: 'sack'; blocks: [number, number][] }
  | { kind: 'ts'; val: number; ecr: number }
  | { kind: 'fo'; cookie: Uint8Array }
  | { kind: 'md5'; digest: Uint8Array };

/** The bracketed IP fields a packet line may carry: `[ect0]`, `(tos 0x10)`, `[ttl 1]`, `[ect01]`. */
export interface IpInfo {
  /** What the tos check compares: the ECN bits, the whole byte, or "either ECT codepoint". */
  tos_check: 'none' | 'ecn' | 'tos' | 'ect01';
  tos: number;
  ttl: number;
  flowlabel: number;
}

export interface TcpPacketSpec {
  proto: 'tcp';
  /** '<' inbound (injected), '>' outbound (expected). */
  direction: '<' | '>';
  ip: IpInfo;
  /** Explicit ports (`1234>8080`), 0 when the script leaves them to the runner. */
  src_port: number;
  dst_port: number;
  /** Flag letters as written ("S.", "F.", "P.", "."; "" for "-"). */
  flags: string;
  seq: number;
  len: number;
  /** Undefined when the line has no `ack`. */
  ack: number | undefined;
  /** Undefined when the line has no `win` (outbound: not compared). */
  win: number | undefined;
  urg: number;
  /** null for `<...>` (outbound: options not compared); [] when the line has none. */
  options: TcpOption[] | null;
}

export interface UdpPacketSpec {
  proto: 'udp';
  direction: '<' | '>';
  ip: IpInfo;
  src_port: number;
  dst_port: number;
  len: number;
}

export interface IcmpPacketSpec {
  proto: 'icmp';
  direction: '<' | '>';
  ip: IpInfo;
  /** Names as packetdrill's (unreachable, echo_request, time_exceeded, ...). */
  type: string;
  code: string | undefined;
  mtu: number | undefined;
  /** The packet the message quotes: `[1:1461(1460)]` (TCP, script sequence numbers) or `[udp (100)]`. */
  echoed: { proto: 'tcp'; seq: number; len: number } | { proto: 'udp'; len: number } | undefined;
}

export type PacketSpec = TcpPacketSpec | UdpPacketSpec | IcmpPacketSpec;

/** A system call argument or result. */
export type Expr =
  | { kind: 'ellipsis'; loc: Loc }
  | { kind: 'int'; value: number; loc: Loc }
  | { kind: 'word'; name: string; loc: Loc }
  | { kind: 'string'; value: string; trailing_ellipsis: boolean; loc: Loc }
  /** `[1]`, `[...]` */
  | { kind: 'list'; items: Expr[]; loc: Loc }
  /** `{sa_family=AF_INET, ...}`, `{onoff=1, linger=0}`, `{..., 1000}` */
  | { kind: 'struct'; items: Expr[]; loc: Loc }
  /** `name=value` inside a struct */
  | { kind: 'assign'; name: string; value: Expr; loc: Loc }
  /** `a|b` */
  | { kind: 'or'; lhs: Expr; rhs: Expr; loc: Loc }
  /** `htons(8080)`, `inet_addr("192.0.2.1")` */
  | { kind: 'call'; name: string; args: Expr[]; loc: Loc };

export interface SyscallSpec {
  name: string;
  name_loc: Loc;
  args: Expr[];
  result: Expr;
  /** `EINPROGRESS (Operation now in progress)` */
  errno: { name: string; loc: Loc } | undefined;
  /** `...0.5`: the call is expected to block and return at this time (us). */
  end_usecs: number | undefined;
}

export type Action =
  | { kind: 'packet'; packet: PacketSpec }
  | { kind: 'syscall'; syscall: SyscallSpec }
  | { kind: 'command'; text: string };

export interface ScriptEvent {
  loc: Loc;
  /** Undefined only for a command before the first or after the last timed event (init / cleanup). */
  time: EventTime | undefined;
  action: Action;
}

export interface ScriptOption {
  name: string;
  value: string | undefined;
  loc: Loc;
}

export interface Script {
  file: string;
  options: ScriptOption[];
  events: ScriptEvent[];
}
