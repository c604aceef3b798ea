// packetdrill's packet semantics: which connection a script packet belongs to (the socket under
// test), how script sequence numbers map to live ones and back, and the field-by-field comparison
// of what the stack sent with what the script expects, reported as packetdrill reports it.
//
// Sequence numbers follow tcpdump: in a packet with SYN set, seq and ack are absolute (the script
// picks the remote ISN in its first inbound SYN and writes the local ISN it pretends the stack
// chose); in every other packet they are relative to the ISNs. The remote ISN is the script's own,
// so inbound seq = script seq + remote ISN; the local ISN is learned from the stack's first SYN or
// SYN-ACK. TS ecr in an inbound packet names a TS val the script saw go out, and is mapped to the
// live value that went out with it.
import type { IpInfo, TcpOption, TcpPacketSpec } from './ast.ts';
import { TCPHDR, tcpFlagBits, tcpFlagText, type Endpoint, type ParsedOption, type ParsedPacket, type TcpFields } from './packet-build.ts';

/** Where the socket under test is in its life, as packetdrill tracks it (socket.h). */
export type SutState =
  | 'new' | 'listening' | 'passive_packet_received' | 'passive_synack_sent' | 'passive_synack_acked'
  | 'active_connecting' | 'active_syn_sent' | 'active_syn_acked';

export interface SocketUnderTest {
  state: SutState;
  protocol: 'tcp' | 'udp';
  /** The script fd, once the socket has one (accept gives a passive one its fd). */
  fd: number | undefined;
  script_local_isn: number;
  script_remote_isn: number;
  live_local_isn: number;
  live_remote_isn: number;
  /** The live 4-tuple; unknown parts undefined until a packet or call fixes them. */
  local: Endpoint | undefined;
  remote: Endpoint | undefined;
  /** Outbound script TS val -> live TS val, for mapping inbound TS ecr. */
  ts_val_map: Map<number, number>;
  first_ts: { script_val: number; actual_val: number } | undefined;
}

export function newSut(state: SutState, protocol: 'tcp' | 'udp'): SocketUnderTest {
  return {
    state, protocol, fd: undefined, script_local_isn: 0, script_remote_isn: 0, live_local_isn: 0, live_remote_isn: 0,
    local: undefined, remote: undefined, ts_val_map: new Map(), first_ts: undefined,
  };
}

const u32 = (x: number): number => x >>> 0;

/** Offsets script -> live (socket.h's local/remote_seq_script_to_live_offset). */
function remoteOffset(s: SocketUnderTest, syn: boolean): number {
  return syn ? 0 : s.live_remote_isn;
}
function localOffset(s: SocketUnderTest, syn: boolean): number {
  return syn ? u32(s.live_local_isn - s.script_local_isn) : s.live_local_isn;
}

export interface MatchConfig {
  tolerance_usecs: number;
  tcp_ts_tick_usecs: number;
  tcp_ts_ecr_scaled: boolean;
  /** vxo checks outbound TS ecr (the echo of the script's own TS val); packetdrill does not. */
  check_ts_ecr: boolean;
}

/** The live TCP fields of an inbound script packet; throws a message when TS ecr cannot be mapped. */
export function mapInbound(spec: TcpPacketSpec, s: SocketUnderTest, cfg: MatchConfig): TcpFields {
  const flags = tcpFlagBits(spec.flags);
  const syn = (flags & TCPHDR.SYN) !== 0;
  const ackOff = localOffset(s, syn);
  const options: TcpOption[] = [];
  for (const o of spec.options ?? []) {
    if (o.kind === 'sack') options.push({ kind: 'sack', blocks: o.blocks.map(([l, r]) => [u32(l + ackOff), u32(r + ackOff)]) });
    else if (o.kind === 'ts' && (flags & TCPHDR.ACK) !== 0) {
      let ecr = s.ts_val_map.get(o.ecr);
      if (ecr === undefined && cfg.tcp_ts_ecr_scaled && s.first_ts !== undefined) ecr = u32(o.ecr - s.first_ts.script_val + s.first_ts.actual_val);
      if (ecr === undefined) {
        throw new Error(`unable to infer live TS ecr for script TS ecr ${o.ecr}; no matching or preceding outbound TS val`);
      }
      options.push({ kind: 'ts', val: o.val, ecr });
    } else options.push(o);
  }
  return {
    sport: s.remote?.port ?? 0,
    dport: s.local?.port ?? 0,
    seq: u32(spec.seq + remoteOffset(s, syn)),
    ack: (flags & TCPHDR.ACK) !== 0 ? u32((spec.ack ?? 0) + ackOff) : u32(spec.ack ?? 0),
    flags,
    win: spec.win ?? 0,
    urg: spec.urg,
    options,
    payload_len: spec.len,
  };
}

/** A TCP segment in script space, for printing and comparing. */
export interface TcpView {
  flags: number;
  seq: number;
  len: number;
  ack: number;
  win: number | undefined;
  urg: number;
  options: ParsedOption[] | null;
  ip: IpInfo | undefined;
}

export function scriptView(spec: TcpPacketSpec): TcpView {
  return { flags: tcpFlagBits(spec.flags), seq: spec.seq, len: spec.len, ack: spec.ack ?? 0, win: spec.win, urg: spec.urg, options: spec.options, ip: spec.ip };
}

/**
 * The live packet's TCP fields in script space (tcp_convert_seq_number + map_outbound_live_packet):
 * seq relative to the local ISN, ack and SACK blocks to the remote ISN, TS val rebased on the first
 * TS val seen. Also records the script->live TS val mapping for later inbound TS ecr.
 */
export function actualView(p: ParsedPacket, spec: TcpPacketSpec, s: SocketUnderTest): TcpView {
  const t = p.tcp!;
  const syn = (t.flags & TCPHDR.SYN) !== 0;
  const seqOff = localOffset(s, syn);
  const ackOff = remoteOffset(s, syn);
  const scriptTs = spec.options?.find((o) => o.kind === 'ts');
  const options: ParsedOption[] = t.options.map((o) => {
    if (o.kind === 'sack') return { kind: 'sack', blocks: o.blocks.map(([l, r]) => [u32(l - ackOff), u32(r - ackOff)] as [number, number]) };
    if (o.kind === 'ts' && scriptTs !== undefined && scriptTs.kind === 'ts') {
      s.ts_val_map.set(scriptTs.val, o.val);
      if (s.first_ts === undefined) s.first_ts = { script_val: scriptTs.val, actual_val: o.val };
      return { kind: 'ts', val: u32(s.first_ts.script_val + (o.val - s.first_ts.actual_val)), ecr: o.ecr };
    }
    return o;
  });
  return {
    flags: t.flags,
    seq: u32(t.seq - seqOff),
    len: t.payload_len,
    ack: (t.flags & TCPHDR.ACK) !== 0 ? u32(t.ack - ackOff) : t.ack,
    win: t.win,
    urg: t.urg,
    options,
    ip: { tos_check: 'tos', tos: p.tos, ttl: p.ttl, flowlabel: p.flowlabel },
  };
}

function optionText(o: ParsedOption): string {
  switch (o.kind) {
    case 'nop': return 'nop';
    case 'eol': return 'eol';
    case 'mss': return `mss ${o.mss}`;
    case 'wscale': return `wscale ${o.shift}`;
    case 'sackOK': return 'sackOK';
    case 'sack': return `sack ${o.blocks.map(([l, r]) => `${l}:${r}`).join(' ')}`;
    case 'ts': return `TS val ${o.val} ecr ${o.ecr}`;
    case 'fo': return `FO ${Buffer.from(o.cookie).toString('hex')}`;
    case 'md5': return `md5 ${Buffer.from(o.digest).toString('hex')}`;
    case 'unknown': return `option ${o.code} len ${o.len}`;
  }
}

/** packetdrill's short packet text: `S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 7>`. */
export function tcpViewText(v: TcpView, showWin = true): string {
  let s = `${tcpFlagText(v.flags) || '-'} ${v.seq}:${u32(v.seq + v.len)}(${v.len}) `;
  if (v.flags & TCPHDR.ACK) s += `ack ${v.ack} `;
  if (v.win !== undefined && showWin) s += `win ${v.win} `;
  if (v.urg !== 0) s += `urg ${v.urg} `;
  if (v.options === null) s += '<...>';
  else if (v.options.length > 0) s += `<${v.options.map(optionText).join(',')}>`;
  return s.trimEnd();
}

function checkField(name: string, expected: number, actual: number): string | undefined {
  if (u32(expected) === u32(actual)) return undefined;
  return `live packet field ${name}: expected: ${u32(expected)} (0x${u32(expected).toString(16)}) vs actual: ${u32(actual)} (0x${u32(actual).toString(16)})`;
}

/** The first field of the actual segment that differs from the script's, as packetdrill names it; undefined if none. */
export function verifyTcp(exp: TcpView, act: TcpView, p: ParsedPacket, cfg: MatchConfig): string | undefined {
  const bit = (v: TcpView, b: number): number => ((v.flags & b) !== 0 ? 1 : 0);
  const optLen = (o: ParsedOption[]): number => o.reduce((n, x) => n + optionBytes(x), 0);
  const expOptBytes = exp.options === null ? optLen(act.options ?? []) : optLen(exp.options);
  const ipHdr = p.src.family === 4 ? 20 : 0;
  const checks: [string, number, number][] = [
    [p.src.family === 4 ? 'ipv4_total_length' : 'ipv6_payload_len', ipHdr + 20 + expOptBytes + exp.len, p.ip_len],
  ];
  for (const [n, e, a] of checks) {
    const err = checkField(n, e, a);
    if (err !== undefined) return err;
  }
  if (exp.ip !== undefined) {
    const ipErr = verifyIp(exp.ip, p);
    if (ipErr !== undefined) return ipErr;
  }
  const fields: [string, number, number][] = [
    ['tcp_data_offset', (20 + expOptBytes) / 4, p.tcp!.doff / 4],
    ['tcp_fin', bit(exp, TCPHDR.FIN), bit(act, TCPHDR.FIN)],
    ['tcp_syn', bit(exp, TCPHDR.SYN), bit(act, TCPHDR.SYN)],
    ['tcp_rst', bit(exp, TCPHDR.RST), bit(act, TCPHDR.RST)],
    ['tcp_psh', bit(exp, TCPHDR.PSH), bit(act, TCPHDR.PSH)],
    ['tcp_ack', bit(exp, TCPHDR.ACK), bit(act, TCPHDR.ACK)],
    ['tcp_urg', bit(exp, TCPHDR.URG), bit(act, TCPHDR.URG)],
    ['tcp_ece', bit(exp, TCPHDR.ECE), bit(act, TCPHDR.ECE)],
    ['tcp_cwr', bit(exp, TCPHDR.CWR), bit(act, TCPHDR.CWR)],
    ['tcp_ae', bit(exp, TCPHDR.AE), bit(act, TCPHDR.AE)],
    ['tcp_seq', exp.seq, act.seq],
    ['tcp_ack_seq', exp.ack, act.ack],
  ];
  if (exp.win !== undefined) fields.push(['tcp_window', exp.win, act.win ?? 0]);
  fields.push(['tcp_urg_ptr', exp.urg, act.urg]);
  for (const [n, e, a] of fields) {
    const err = checkField(n, e, a);
    if (err !== undefined) return err;
  }
  if (exp.options !== null) {
    const a = act.options ?? [];
    for (let i = 0; i < Math.max(exp.options.length, a.length); i++) {
      const eo = exp.options[i];
      const ao = a[i];
      if (eo === undefined || ao === undefined || eo.kind !== ao.kind) return 'bad outbound TCP options';
      const err = verifyOption(eo, ao, cfg);
      if (err !== undefined) return err;
    }
  }
  for (const byte of p.payload) if (byte !== 0) return 'incorrect outbound data payload';
  return undefined;
}

function verifyIp(exp: IpInfo, p: ParsedPacket): string | undefined {
  const ecn = p.tos & 3;
  if (exp.tos_check === 'ect01' && ecn !== 1 && ecn !== 2) return `live packet field ip_ecn: expected: 0x1 or 0x2 vs actual: 0x${ecn.toString(16)}`;
  if (exp.tos_check === 'ecn') return checkField('ip_ecn', exp.tos, ecn);
  if (exp.tos_check === 'tos') return checkField('tos', exp.tos, p.tos);
  if (exp.ttl !== 0) return checkField('ttl', exp.ttl, p.ttl);
  return undefined;
}

function optionBytes(o: ParsedOption): number {
  switch (o.kind) {
    case 'nop': case 'eol': return 1;
    case 'mss': return 4;
    case 'wscale': return 3;
    case 'sackOK': return 2;
    case 'sack': return 2 + 8 * o.blocks.length;
    case 'ts': return 10;
    case 'fo': return 2 + o.cookie.length;
    case 'md5': return 2 + o.digest.length;
    case 'unknown': return o.len;
  }
}

function verifyOption(e: ParsedOption, a: ParsedOption, cfg: MatchConfig): string | undefined {
  if (e.kind === 'ts' && a.kind === 'ts') {
    if (cfg.tcp_ts_tick_usecs > 0 && Math.abs((a.val - e.val) | 0) * cfg.tcp_ts_tick_usecs > cfg.tolerance_usecs) {
      return `bad outbound TCP timestamp value, tolerance ${cfg.tolerance_usecs}: expected TS val ${e.val} vs actual ${a.val}`;
    }
    if (cfg.check_ts_ecr && e.ecr !== a.ecr) return `bad outbound TCP timestamp echo reply: expected: ${e.ecr} vs actual: ${a.ecr}`;
    return undefined;
  }
  if (optionText(e) !== optionText(a)) return `bad value outbound TCP option ${optionText(e)}: actual ${optionText(a)}`;
  return undefined;
}
