// Runs a parsed script against a fresh stack on the virtual clock, event by event, as packetdrill's
// run.c does on a real one: relative times are anchored where packetdrill anchors them (the
// previous inbound packet's script time for back-to-back inbound packets, otherwise the time the
// previous event finished), inbound packets are injected at their time, outbound packets are
// taken from what tun0 sent (waiting, timer by timer, up to the expected time plus the tolerance),
// and a system call the script marks as blocking (`...end`) runs alongside later events until the
// socket lets it finish, when its return time is checked.
import type { EventTime, IcmpPacketSpec, PacketSpec, Script, ScriptEvent, SyscallSpec, TcpPacketSpec } from './ast.ts';
import { ScriptError, ScriptFailure, type Loc } from './errors.ts';
import { makeConfig, sockaddrFor, ipEqual, ipText, type CliOption, type RunConfig } from './config.ts';
import { SCRIPT_START_NS, buildStack, type PdStack } from './stack.ts';
import {
  TCPHDR, buildIcmpPacket, buildQuote, buildTcpPacket, buildUdpPacket, parsePacket, tcpFlagBits, type ParsedPacket,
} from './packet-build.ts';
import {
  actualView, mapInbound, newSut, scriptView, tcpViewText, verifyTcp, type MatchConfig, type SocketUnderTest,
} from './packet-match.ts';
import { prepareCall, intValue, type Call, type SyscallEnv } from './syscalls.ts';
import { validate } from './validate.ts';
import { ERRNOS, errnoText, icmpNumbers } from './symbols.ts';
import { runCommand } from './sysctl.ts';
import { parseScript } from './parser.ts';
import type { Socket } from '../../net/socket.ts';

export interface RunOptions {
  /** Command-line options (--tolerance_usecs=...), applied after the script's own. */
  options?: readonly CliOption[];
  /** Called with each verbose line (packets injected and sniffed, system calls). */
  verbose?: (line: string) => void;
}

export type ScriptStatus = 'pass' | 'fail' | 'error';

export interface ScriptResult {
  file: string;
  status: ScriptStatus;
  /** The first mismatch (fail) or why the script cannot run (error), packetdrill-style. */
  message?: string;
  line?: number;
  /** Events run (completed) before the end or the failure. */
  events_run: number;
  /** The stack's non-zero counters at the end (nstat names: TcpInSegs, TcpExtSyncookiesSent, ...). */
  nstat: Record<string, number>;
}

/** How long a `*` outbound packet or a blocking call without `...` may take, virtual seconds. */
const MAX_WAIT_USECS = 600e6;
/** packetdrill gives a still-running blocking call this long before the next call (await_idle_thread). */
const IDLE_WAIT_USECS = 1e6;

const secs = (us: number): string => (us / 1e6).toFixed(6);
const pad = (us: number): string => secs(us).padStart(9);

interface Pending {
  ev: ScriptEvent;
  spec: SyscallSpec;
  call: Call;
  start_us: number;
  /** The script's expected return time; undefined for a call the script did not mark blocking. */
  end_us: number | undefined;
}

class Run {
  private readonly match: MatchConfig;
  private sut: SocketUnderTest | undefined;
  private readonly sockets = new Map<number, SocketUnderTest>();
  private readonly fds = new Map<number, Socket>();
  private pending: Pending | undefined;
  private boundPort: number;
  private ephemeral = 40000;
  private lastUs: number | undefined;
  private lastInbound = false;
  private lastAbsolute: number | undefined;
  events_run = 0;
  private readonly env: SyscallEnv;

  constructor(
    private readonly script: Script,
    private readonly cfg: RunConfig,
    private readonly st: PdStack,
    private readonly log: ((line: string) => void) | undefined,
  ) {
    this.match = { tolerance_usecs: cfg.tolerance_usecs, tcp_ts_tick_usecs: cfg.tcp_ts_tick_usecs, tcp_ts_ecr_scaled: cfg.tcp_ts_ecr_scaled, check_ts_ecr: cfg.check_ts_ecr };
    this.boundPort = cfg.bind_port;
    const run = this;
    this.env = {
      net: st.net,
      file: script.file,
      socket_domain: cfg.ip_version === 'ipv4' ? 2 : 10,
      bind_addr: sockaddrFor(cfg, cfg.local, cfg.bind_port),
      connect_addr: sockaddrFor(cfg, cfg.remote, cfg.connect_port),
      fds: this.fds,
      defines: cfg.defines,
      nowUs: () => this.nowUs(),
      onSocket(fd, _sock, type) {
        const s = newSut('new', type === 2 ? 'udp' : 'tcp');
        s.fd = fd;
        run.sockets.set(fd, s);
        run.sut = s;
      },
      onBind(fd, addr) {
        run.boundPort = addr.port;
        const s = run.sockets.get(fd);
        if (s !== undefined && s.protocol === 'udp') s.local = { ip: run.cfg.local, port: addr.port };
      },
      onListen(fd) {
        const s = run.sockets.get(fd);
        if (s !== undefined) s.state = 'listening';
      },
      onConnect(fd, addr) {
        const s = run.sockets.get(fd);
        if (s === undefined) return;
        if (addr === undefined) {
          s.state = 'new';
          return;
        }
        if (s.state !== 'new') return;
        s.state = 'active_connecting';
        s.remote = { ip: run.cfg.remote, port: addr.port };
        run.sut = s;
      },
      onAccept(_listenFd, fd) {
        for (const s of [run.sut, ...run.sockets.values()]) {
          if (s !== undefined && s.fd === undefined && (s.state === 'passive_synack_sent' || s.state === 'passive_synack_acked')) {
            s.fd = fd;
            run.sockets.set(fd, s);
            return undefined;
          }
        }
        return 'unable to find socket matching accept() call';
      },
      onClose(fd) {
        run.sockets.delete(fd);
      },
    };
  }

  private nowUs(): number {
    return Math.floor((this.st.clock.ktime_get_ns() - SCRIPT_START_NS) / 1000);
  }

  private fail(loc: Loc, msg: string): never {
    throw new ScriptFailure(this.script.file, loc, msg);
  }

  private tolerance(expUs: number, lastUs: number | undefined): number {
    let tol = this.cfg.tolerance_usecs;
    if (lastUs !== undefined) tol = Math.max(tol, Math.trunc((this.cfg.tolerance_percent / 100) * (expUs - lastUs)));
    return tol;
  }

  /** packetdrill's verify_time: undefined when actual is within the tolerance of the expected time (or range). */
  private verifyTime(kind: EventTime['kind'], exp: number, end: number | undefined, actual: number, lastUs: number | undefined, what: string): string | undefined {
    if (kind === 'any') return undefined;
    const tol = this.tolerance(exp, lastUs);
    if (end !== undefined) {
      if (actual < exp - tol || actual > end + tol) return `timing error: expected ${what} in time range ${secs(exp)}~${secs(end)} sec but happened at ${secs(actual)} sec`;
      return undefined;
    }
    if (actual < exp - tol || actual > exp + tol) {
      return `timing error: expected ${what} at ${secs(exp)} sec but happened at ${secs(actual)} sec; tolerance ${secs(tol)} sec`;
    }
    return undefined;
  }

  /** Moves the clock to `us`, timer by timer, letting a blocked call finish as soon as it can. */
  private advanceTo(us: number): void {
    this.advanceUntil(() => false, us);
  }

  /** Advances until pred() holds or the clock reaches limitUs; returns pred(). */
  private advanceUntil(pred: () => boolean, limitUs: number): boolean {
    const clock = this.st.clock;
    let stuckAt = -1;
    let stuck = 0;
    for (;;) {
      this.pollPending();
      if (pred()) return true;
      const now = clock.ktime_get_ns();
      // A timer that re-arms itself for the same instant would spin here for ever.
      if (now === stuckAt) {
        if (++stuck > 100000) throw new Error(`the stack's timers keep firing at ${secs((now - SCRIPT_START_NS) / 1000)} sec without time advancing`);
      } else {
        stuckAt = now;
        stuck = 0;
      }
      const limit = SCRIPT_START_NS + limitUs * 1000;
      if (now >= limit) return pred();
      const wake = this.pending?.call.wake_us?.();
      const wakeNs = wake === undefined ? undefined : SCRIPT_START_NS + wake * 1000;
      const stop = wakeNs !== undefined && wakeNs > now ? Math.min(limit, wakeNs) : limit;
      const next = clock.next_expiry_ns();
      clock.advance_to(next === undefined || next > stop ? stop : Math.max(now, next));
    }
  }

  run(): void {
    let firstTimed = true;
    for (const ev of this.script.events) {
      if (ev.time === undefined) {
        this.command(ev, ev.action.kind === 'command' ? ev.action.text : '');
        this.events_run++;
        continue;
      }
      const inbound = ev.action.kind === 'packet' && ev.action.packet.direction === '<';
      const time = ev.time;
      if (firstTimed && time.kind !== 'any' && time.usecs !== 0) {
        throw new ScriptError(this.script.file, ev.loc, 'first event should be at time 0');
      }
      firstTimed = false;
      // adjust_relative_event_times: back-to-back inbound packets are anchored on each other's script times.
      const relative = time.kind === 'relative' || time.kind === 'relative_range' || time.kind === 'any';
      const offset = relative ? (this.lastInbound && inbound && this.lastUs !== undefined ? this.lastUs : this.nowUs()) : 0;
      const t = time.kind === 'any' ? offset : time.usecs + offset;
      const tEnd = time.kind === 'absolute_range' ? time.end : time.kind === 'relative_range' ? time.end + offset : undefined;
      if (time.kind === 'absolute' || time.kind === 'absolute_range') {
        if (this.lastAbsolute !== undefined && t < this.lastAbsolute) {
          throw new ScriptError(this.script.file, ev.loc, `time goes backward in script from ${this.lastAbsolute} usec to ${t} usec`);
        }
        this.lastAbsolute = t;
      }
      switch (ev.action.kind) {
        case 'packet':
          if (ev.action.packet.direction === '<') this.inbound(ev, ev.action.packet, t, time.kind);
          else this.outbound(ev, ev.action.packet, t, tEnd, time.kind);
          break;
        case 'syscall': {
          const s = ev.action.syscall;
          const end = s.end_usecs === undefined ? undefined : time.kind === 'relative' ? s.end_usecs + offset : s.end_usecs;
          this.syscall(ev, s, t, end, time.kind);
          break;
        }
        case 'command':
          this.waitForEvent(ev, t, time.kind, 'command');
          this.command(ev, ev.action.text);
          break;
      }
      this.lastUs = t;
      this.lastInbound = inbound;
      this.events_run++;
    }
    if (this.pending !== undefined) {
      const p = this.pending;
      this.advanceUntil(() => this.pending === undefined, this.nowUs() + IDLE_WAIT_USECS);
      if (this.pending !== undefined) this.fail(p.ev.loc, `runtime error in ${p.spec.name} call: the script ends while this blocking system call is still in progress`);
    }
  }

  /** wait_for_event: the clock moves to the event's time; an event already late must be within the tolerance. */
  private waitForEvent(ev: ScriptEvent, t: number, kind: EventTime['kind'], what: string): void {
    if (this.nowUs() < t) this.advanceTo(t);
    else if (this.nowUs() > t) {
      const e = this.verifyTime(kind, t, undefined, this.nowUs(), this.lastUs, what);
      if (e !== undefined) this.fail(ev.loc, e);
    }
  }

  private command(ev: ScriptEvent, text: string): void {
    const r = runCommand(this.st.net, text);
    if (r !== undefined) throw new ScriptError(this.script.file, ev.loc, r);
    this.log?.(`command: ${pad(this.nowUs())} \`${text}\``);
  }

  // ---- packets ----

  private nextEphemeral(): number {
    return this.ephemeral++;
  }

  /** find_or_create_socket_for_script_packet. */
  private sutFor(ev: ScriptEvent, p: PacketSpec): SocketUnderTest {
    const s = this.sut;
    if (p.proto === 'tcp') {
      if (p.direction === '<' && (s === undefined || s.state === 'listening')) {
        const child = newSut('passive_packet_received', 'tcp');
        child.script_remote_isn = child.live_remote_isn = p.seq;
        child.remote = { ip: this.cfg.remote, port: this.nextEphemeral() };
        child.local = { ip: this.cfg.local, port: this.boundPort };
        this.sut = child;
        return child;
      }
      const bits = tcpFlagBits(p.flags);
      if (p.direction === '>' && (bits & TCPHDR.SYN) !== 0 && (bits & TCPHDR.ACK) === 0 && s?.state === 'active_connecting') {
        s.state = 'active_syn_sent';
        s.script_local_isn = p.seq;
        return s;
      }
    }
    if (s !== undefined && (p.proto === 'icmp' || s.protocol === p.proto)) return s;
    if (s !== undefined && p.proto !== 'icmp' && (p.src_port !== 0 || p.dst_port !== 0)) return s;
    if (p.proto === 'udp' && s === undefined) {
      const u = newSut('new', 'udp');
      this.sut = u;
      return u;
    }
    return this.fail(ev.loc, 'error handling packet: no matching socket for script packet');
  }

  private inbound(ev: ScriptEvent, p: PacketSpec, t: number, kind: EventTime['kind']): void {
    const s = this.sutFor(ev, p);
    let bytes: Uint8Array;
    let text: string;
    if (p.proto === 'icmp') {
      this.waitForEvent(ev, t, kind, 'inbound packet');
      bytes = this.icmpBytes(ev, p, s);
      text = `icmp ${p.type}${p.code === undefined ? '' : ` ${p.code}`}${p.mtu === undefined ? '' : ` mtu ${p.mtu}`}`;
    } else if (p.proto === 'tcp') {
      const bits = tcpFlagBits(p.flags);
      if (s.state === 'passive_synack_sent' && (bits & TCPHDR.ACK) !== 0) s.state = 'passive_synack_acked';
      else if (s.state === 'active_syn_sent' && (bits & TCPHDR.SYN) !== 0 && (bits & TCPHDR.ACK) !== 0) {
        s.state = 'active_syn_acked';
        s.script_remote_isn = s.live_remote_isn = p.seq;
      }
      this.waitForEvent(ev, t, kind, 'inbound packet');
      if (s.local === undefined || s.remote === undefined) {
        this.fail(ev.loc, 'error handling packet: the connection\'s live addresses are not known yet (no outbound SYN seen for the connect())');
      }
      let fields;
      try {
        fields = mapInbound(p as TcpPacketSpec, s, this.match);
      } catch (e) {
        return this.fail(ev.loc, `error handling packet: ${(e as Error).message}`);
      }
      if (p.src_port !== 0) fields.sport = p.src_port;
      if (p.dst_port !== 0) fields.dport = p.dst_port;
      bytes = buildTcpPacket(s.remote.ip, s.local.ip, p.ip, fields);
      text = tcpViewText(scriptView(p as TcpPacketSpec));
    } else {
      this.waitForEvent(ev, t, kind, 'inbound packet');
      s.local ??= { ip: this.cfg.local, port: this.boundPort };
      s.remote ??= { ip: this.cfg.remote, port: this.cfg.connect_port };
      bytes = buildUdpPacket(s.remote.ip, s.local.ip, p.ip, p.src_port || s.remote.port, p.dst_port || s.local.port, p.len);
      text = `udp (${p.len})`;
    }
    this.log?.(`inbound injected packet: ${pad(this.nowUs())} ${text}`);
    this.st.inject(bytes);
    this.pollPending();
  }

  /**
   * An inbound ICMP error about the socket under test's traffic: from the remote address, quoting
   * an outbound packet of the connection (its IP header and first 8 bytes), the quoted TCP sequence
   * number mapped to live as packetdrill maps it (relative to the local ISN).
   */
  private icmpBytes(ev: ScriptEvent, p: IcmpPacketSpec, s: SocketUnderTest): Uint8Array {
    const local = s.local ?? { ip: this.cfg.local, port: this.boundPort };
    const remote = s.remote ?? { ip: this.cfg.remote, port: this.cfg.connect_port };
    const nums = icmpNumbers(local.ip.family, p.type, p.code);
    if (nums === undefined) throw new ScriptError(this.script.file, ev.loc, `unknown icmp type/code ${p.type} ${p.code ?? ''}`);
    const echoed = p.echoed ?? (s.protocol === 'udp' ? { proto: 'udp' as const, len: 0 } : { proto: 'tcp' as const, seq: 0, len: 0 });
    const l4 = new Uint8Array(8);
    const dv = new DataView(l4.buffer);
    dv.setUint16(0, local.port);
    dv.setUint16(2, remote.port);
    let l4len: number;
    if (echoed.proto === 'tcp') {
      dv.setUint32(4, (echoed.seq + s.live_local_isn) >>> 0);
      l4len = 20 + echoed.len;
    } else {
      dv.setUint16(4, 8 + echoed.len);
      l4len = 8 + echoed.len;
    }
    const quote = buildQuote(local.ip, remote.ip, echoed.proto === 'tcp' ? 6 : 17, l4len, l4);
    return buildIcmpPacket(remote.ip, local.ip, p.ip, nums[0], nums[1] ?? 0, p.mtu ?? 0, quote);
  }

  /** find_socket_for_live_packet / find_connect_for_live_packet: is this packet the socket under test's? */
  private isSutPacket(p: ParsedPacket): boolean {
    const s = this.sut;
    if (s === undefined) return false;
    const sport = p.tcp?.sport ?? p.udp?.sport;
    const dport = p.tcp?.dport ?? p.udp?.dport;
    if (s.local !== undefined && s.remote !== undefined) {
      if (p.icmp !== undefined) return ipEqual(p.src, s.local.ip) && ipEqual(p.dst, s.remote.ip);
      if (ipEqual(p.src, s.local.ip) && ipEqual(p.dst, s.remote.ip) && sport === s.local.port && dport === s.remote.port) return true;
    }
    if (s.remote !== undefined && ipEqual(p.dst, s.remote.ip) && dport === s.remote.port) {
      const t = p.tcp;
      if (t !== undefined && s.state === 'active_syn_sent' && (t.flags & TCPHDR.SYN) !== 0 && (t.flags & TCPHDR.ACK) === 0) {
        s.local = { ip: p.src, port: t.sport };
        s.live_local_isn = t.seq;
        return true;
      }
      if (p.udp !== undefined && s.protocol === 'udp' && s.state === 'active_connecting') {
        s.local = { ip: p.src, port: p.udp.sport };
        return true;
      }
    }
    return false;
  }

  private describeLive(p: ParsedPacket | undefined, bytes: Uint8Array): string {
    if (p === undefined) return `[not an IP packet: ${bytes.length} bytes]`;
    const ports = p.tcp !== undefined ? [p.tcp.sport, p.tcp.dport] : p.udp !== undefined ? [p.udp.sport, p.udp.dport] : undefined;
    const ends = ports === undefined ? `${ipText(p.src)} > ${ipText(p.dst)}` : `${ipText(p.src)}:${ports[0]} > ${ipText(p.dst)}:${ports[1]}`;
    if (p.tcp !== undefined) {
      const t = p.tcp;
      return `${ends} ${tcpViewText({ flags: t.flags, seq: t.seq, len: t.payload_len, ack: t.ack, win: t.win, urg: t.urg, options: t.options, ip: undefined })}`;
    }
    if (p.udp !== undefined) return `${ends} udp (${p.payload.length})`;
    if (p.icmp !== undefined) return `${ends} icmp type ${p.icmp.type} code ${p.icmp.code}`;
    return `${ends} protocol ${p.proto}`;
  }

  private outbound(ev: ScriptEvent, p: PacketSpec, t: number, tEnd: number | undefined, kind: EventTime['kind']): void {
    const s = this.sutFor(ev, p);
    const bits = p.proto === 'tcp' ? tcpFlagBits(p.flags) : 0;
    const synack = (bits & (TCPHDR.SYN | TCPHDR.ACK)) === (TCPHDR.SYN | TCPHDR.ACK);
    if (s.state === 'passive_packet_received' && synack) s.script_local_isn = (p as TcpPacketSpec).seq;
    const tol = this.tolerance(t, this.lastUs);
    const deadline = kind === 'any' ? this.nowUs() + MAX_WAIT_USECS : (tEnd ?? t) + tol;
    const others: string[] = [];
    let live: { p: ParsedPacket; us: number } | undefined;
    const take = (): boolean => {
      while (this.st.captured.length > 0) {
        const c = this.st.captured.shift()!;
        const parsed = parsePacket(c.bytes);
        const us = Math.floor((c.time_ns - SCRIPT_START_NS) / 1000);
        if (parsed !== undefined && this.isSutPacket(parsed)) {
          live = { p: parsed, us };
          return true;
        }
        others.push(`${pad(us)} ${this.describeLive(parsed, c.bytes)}`);
        this.log?.(`outbound ignored packet: ${pad(us)} ${this.describeLive(parsed, c.bytes)}`);
      }
      return false;
    };
    this.advanceUntil(take, deadline);
    const scriptText = p.proto === 'tcp' ? tcpViewText(scriptView(p)) : p.proto === 'udp' ? `udp (${p.len})` : `icmp ${p.type}${p.code === undefined ? '' : ` ${p.code}`}`;
    const got = live as { p: ParsedPacket; us: number } | undefined;
    if (got === undefined) {
      const when = tEnd !== undefined ? `in time range ${secs(t)}~${secs(tEnd)} sec` : kind === 'any' ? 'at any time' : `at ${secs(t)} sec`;
      let msg = `error handling packet: expected outbound packet ${when} but the socket under test sent nothing by ${secs(this.nowUs())} sec\nscript packet: ${pad(t)} ${scriptText}`;
      if (others.length > 0) msg += `\nother packets sent meanwhile (not the socket under test's):\n  ${others.join('\n  ')}`;
      this.fail(ev.loc, msg);
    }
    const lp = got.p;
    if (s.state === 'passive_packet_received' && synack && lp.tcp !== undefined) {
      s.state = 'passive_synack_sent';
      s.live_local_isn = lp.tcp.seq;
    }
    let error: string | undefined;
    let actualText = this.describeLive(lp, new Uint8Array(0));
    if (!lp.ip_csum_ok) error = 'bad outbound IP checksum';
    else if (p.proto === 'tcp') {
      if (lp.tcp === undefined) error = `live packet header layer 1: expected: tcp header vs actual: ${lp.udp ? 'udp' : lp.icmp ? 'icmp' : `protocol ${lp.proto}`} header`;
      else {
        const act = actualView(lp, p, s);
        actualText = tcpViewText(act);
        error = verifyTcp(scriptView(p), act, lp, this.match);
      }
    } else if (p.proto === 'udp') {
      if (lp.udp === undefined) error = `live packet header layer 1: expected: udp header vs actual: ${lp.tcp ? 'tcp' : 'other'} header`;
      else {
        actualText = `udp (${lp.payload.length})`;
        if (lp.udp.len !== 8 + p.len) error = `live packet field udp_len: expected: ${8 + p.len} (0x${(8 + p.len).toString(16)}) vs actual: ${lp.udp.len} (0x${lp.udp.len.toString(16)})`;
      }
    } else {
      if (lp.icmp === undefined) error = 'live packet header layer 1: expected: icmp header vs actual: other header';
      else {
        const want = icmpNumbers(lp.src.family, p.type, p.code);
        if (want === undefined) throw new ScriptError(this.script.file, ev.loc, `unknown icmp type/code ${p.type} ${p.code ?? ''}`);
        if (lp.icmp.type !== want[0]) error = `live packet field icmp_type: expected: ${want[0]} vs actual: ${lp.icmp.type}`;
        else if (want[1] !== undefined && lp.icmp.code !== want[1]) error = `live packet field icmp_code: expected: ${want[1]} vs actual: ${lp.icmp.code}`;
      }
    }
    error ??= this.verifyTime(kind, t, tEnd, got.us, this.lastUs, 'outbound packet');
    this.log?.(`outbound sniffed packet: ${pad(got.us)} ${actualText}`);
    if (error !== undefined) {
      this.fail(ev.loc, `error handling packet: ${error}\nscript packet: ${pad(t)} ${scriptText}\nactual packet: ${pad(got.us)} ${actualText}`);
    }
  }

  // ---- system calls ----

  private pollPending(): void {
    const p = this.pending;
    if (p === undefined) return;
    const r = p.call.attempt();
    if (r === 'again') return;
    this.pending = undefined;
    this.complete(p.ev, p.spec, p.call, r);
    if (p.end_us !== undefined) {
      const e = this.verifyTime('absolute', p.end_us, undefined, this.nowUs(), p.start_us, 'system call return');
      if (e !== undefined) this.fail(p.ev.loc, e);
    }
  }

  private complete(ev: ScriptEvent, spec: SyscallSpec, call: Call, r: number): void {
    const expected = intValue(this.env, spec.result);
    const shown = r < 0 ? `-1 (errno ${errnoText(-r)})` : call.check_fd && expected >= 0 ? `${expected}` : `${r}`;
    this.log?.(`${spec.name} syscall: ${pad(this.nowUs())} = ${shown}`);
    const actual = r < 0 ? -1 : r;
    const errText = r < 0 ? ` with errno ${errnoText(-r)}` : '';
    const where = `runtime error in ${spec.name} call`;
    if (call.check_fd && expected >= 0) {
      if (r < 0) this.fail(ev.loc, `${where}: Expected non-negative result but got -1${errText}`);
    } else if (actual !== expected) {
      this.fail(ev.loc, `${where}: Expected result ${expected} but got ${actual}${errText}`);
    }
    if (spec.errno !== undefined) {
      const want = ERRNOS[spec.errno.name];
      if (want === undefined) throw new ScriptError(this.script.file, spec.errno.loc, `unknown errno ${spec.errno.name}`);
      const got = r < 0 ? -r : 0;
      if (got !== want[0]) this.fail(ev.loc, `${where}: Expected errno ${errnoText(want[0])} but got ${got === 0 ? '0 (no error)' : errnoText(got)}`);
    }
    const extra = call.finish(r);
    if (extra !== undefined) this.fail(ev.loc, `${where}: ${extra}`);
  }

  private syscall(ev: ScriptEvent, spec: SyscallSpec, t: number, end: number | undefined, kind: EventTime['kind']): void {
    this.waitForEvent(ev, t, kind, 'system call start');
    if (this.pending !== undefined) {
      const p = this.pending;
      this.advanceUntil(() => this.pending === undefined, this.nowUs() + IDLE_WAIT_USECS);
      if (this.pending !== undefined) {
        this.fail(ev.loc, `runtime error in ${spec.name} call: blocking system call while another blocking system call is already in progress (line ${p.ev.loc.line})`);
      }
    }
    const call = prepareCall(this.env, spec);
    const start = this.nowUs();
    const r = call.attempt();
    if (r !== 'again') {
      this.complete(ev, spec, call, r);
      if (end !== undefined) {
        const e = this.verifyTime('absolute', end, undefined, this.nowUs(), start, 'system call return');
        if (e !== undefined) this.fail(ev.loc, e);
      }
      return;
    }
    this.log?.(`${spec.name} syscall: ${pad(start)} blocks`);
    this.pending = { ev, spec, call, start_us: start, end_us: end };
    if (end !== undefined) return;
    // Not marked blocking, yet it blocks: the caller sleeps, and nothing else in the script happens meanwhile.
    if (!this.advanceUntil(() => this.pending === undefined, start + MAX_WAIT_USECS)) {
      this.pending = undefined;
      this.fail(ev.loc, `runtime error in ${spec.name} call: the call blocked (the socket is blocking) and had not returned ${MAX_WAIT_USECS / 1e6} s later; mark a call that blocks with ...end_time, or make the socket non-blocking`);
    }
  }
}

/** Parses and runs one script. Never throws for the script's own problems: they are the result. */
export async function runScriptText(file: string, src: string, opts: RunOptions = {}): Promise<ScriptResult> {
  let run: Run | undefined;
  let st: PdStack | undefined;
  const counters = (): Record<string, number> => (st === undefined ? {} : st.stack.nstat());
  try {
    const script = parseScript(src, file);
    const cfg = makeConfig(file, script.options, opts.options);
    validate(script, cfg);
    st = buildStack({ seed: cfg.seed, mtu: cfg.mtu, local: cfg.local, remote: cfg.remote, local_prefixlen: cfg.local_prefixlen, remote_prefixlen: cfg.remote_prefixlen });
    run = new Run(script, cfg, st, opts.verbose);
    run.run();
    return { file, status: 'pass', events_run: run.events_run, nstat: counters() };
  } catch (e) {
    const events_run = run?.events_run ?? 0;
    if (e instanceof ScriptFailure) return { file, status: 'fail', message: e.message, line: e.loc.line, events_run, nstat: counters() };
    if (e instanceof ScriptError) return { file, status: 'error', message: e.message, line: e.loc.line, events_run, nstat: counters() };
    // Anything else is the stack throwing (a NetError for a would-be kernel BUG) or a runner bug.
    const err = e as Error;
    return { file, status: 'fail', message: `${file}: the stack threw during the run: ${err.stack ?? err.message}`, events_run, nstat: counters() };
  }
}
