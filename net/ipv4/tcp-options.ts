// TCP options (tcp_parse_options in tcp_input.c, tcp_options_write and the option sizing of
// tcp_output.c). The SYN carries MSS, SACK-permitted, timestamps and window scale in Linux's order
// (MSS, SACK_PERM+TS or NOP,NOP,TS, NOP,NOP,SACK_PERM without TS, NOP,WSCALE); established
// segments NOP,NOP,TS and NOP,NOP,SACK blocks.
import type { TcpOptionsReceived, TcpSock } from './tcp-sock.ts';
import { TCPOLEN, TCPOPT, TCP_MAX_WSCALE, TCP_TIMES, TCPHDR_SYN } from './tcp-defs.ts';

const { TCPOPT_NOP, TCPOPT_EOL, TCPOPT_MSS, TCPOPT_WINDOW, TCPOPT_SACK_PERM, TCPOPT_SACK, TCPOPT_TIMESTAMP } = TCPOPT;

/** tcp_out_options.options bits (OPTION_*). */
export const OPTION = { OPTION_SACK_ADVERTISE: 1 << 0, OPTION_TS: 1 << 1, OPTION_WSCALE: 1 << 3 } as const;

/** Shared by every reset (read-only): no array per transmitted segment. */
const NO_SACKS: readonly { start_seq: number; end_seq: number }[] = [];

/** struct tcp_out_options: what one outgoing segment carries. */
export class TcpOutOptions {
  options = 0;
  /** 0: no MSS option. */
  mss = 0;
  ws = 0;
  num_sack_blocks = 0;
  tsval = 0;
  tsecr = 0;
  /** The blocks to write (D-SACK first), when num_sack_blocks is nonzero. */
  sacks: readonly { start_seq: number; end_seq: number }[] = NO_SACKS;
  reset(): this {
    this.options = this.mss = this.ws = this.num_sack_blocks = this.tsval = this.tsecr = 0;
    this.sacks = NO_SACKS;
    return this;
  }
}

/** Where a segment's SACK blocks go during parsing (offsets into the buffer, as the kernel keeps sacked). */
export interface ParsedSack {
  /** Offset of the first block in the buffer (0: none) and how many blocks. */
  off: number;
  n: number;
}

/**
 * tcp_parse_options: the options of the header at `th` (doff words). A malformed option (length
 * under 2, or running past the header) ends parsing, the segment itself is kept, as Linux does.
 * SYN-only options are read only from a SYN. `sack` receives the SACK blocks' position.
 */
export function tcp_parse_options(
  v: DataView,
  th: number,
  doff: number,
  syn: boolean,
  opt_rx: TcpOptionsReceived,
  sack: ParsedSack | null,
  sysctl: { tcp_timestamps: number; tcp_sack: number; tcp_window_scaling: number },
): void {
  let ptr = th + 20;
  let length = doff * 4 - 20;
  opt_rx.saw_tstamp = false;
  opt_rx.num_sacks = 0;
  if (sack !== null) sack.n = sack.off = 0;
  while (length > 0) {
    const opcode = v.getUint8(ptr++);
    if (opcode === TCPOPT_EOL) return;
    if (opcode === TCPOPT_NOP) {
      length--;
      continue;
    }
    if (length < 2) return;
    const opsize = v.getUint8(ptr++);
    if (opsize < 2) return; // silly options
    if (opsize > length) return; // don't parse partial options
    switch (opcode) {
      case TCPOPT_MSS:
        if (opsize === TCPOLEN.TCPOLEN_MSS && syn) {
          let in_mss = v.getUint16(ptr);
          if (in_mss !== 0) {
            if (opt_rx.user_mss !== 0 && opt_rx.user_mss < in_mss) in_mss = opt_rx.user_mss;
            opt_rx.mss_clamp = in_mss;
          }
        }
        break;
      case TCPOPT_WINDOW:
        if (opsize === TCPOLEN.TCPOLEN_WINDOW && syn && sysctl.tcp_window_scaling) {
          let snd_wscale = v.getUint8(ptr);
          opt_rx.wscale_ok = true;
          // RFC 7323 2.3: a shift over 14 is treated as 14.
          if (snd_wscale > TCP_MAX_WSCALE) snd_wscale = TCP_MAX_WSCALE;
          opt_rx.snd_wscale = snd_wscale;
        }
        break;
      case TCPOPT_TIMESTAMP:
        if (opsize === TCPOLEN.TCPOLEN_TIMESTAMP && ((syn && sysctl.tcp_timestamps) || opt_rx.tstamp_ok)) {
          opt_rx.saw_tstamp = true;
          opt_rx.rcv_tsval = v.getUint32(ptr);
          opt_rx.rcv_tsecr = v.getUint32(ptr + 4);
        }
        break;
      case TCPOPT_SACK_PERM:
        if (opsize === TCPOLEN.TCPOLEN_SACK_PERM && syn && sysctl.tcp_sack) opt_rx.sack_ok = true;
        break;
      case TCPOPT_SACK:
        if (
          opsize >= TCPOLEN.TCPOLEN_SACK_BASE + TCPOLEN.TCPOLEN_SACK_PERBLOCK &&
          (opsize - TCPOLEN.TCPOLEN_SACK_BASE) % TCPOLEN.TCPOLEN_SACK_PERBLOCK === 0 &&
          opt_rx.sack_ok &&
          sack !== null
        ) {
          sack.off = ptr;
          sack.n = (opsize - TCPOLEN.TCPOLEN_SACK_BASE) / TCPOLEN.TCPOLEN_SACK_PERBLOCK;
          opt_rx.num_sacks = sack.n;
        }
        break;
      default:
        break;
    }
    ptr += opsize - 2;
    length -= opsize;
  }
}

/**
 * tcp_parse_aligned_timestamp's last step: the TSecr a full socket keeps is its own TS clock,
 * less the connection's offset (0 stays 0: "no echo").
 */
export function tcp_tsecr_unoffset(tp: TcpSock): void {
  if (tp.rx_opt.rcv_tsecr !== 0) tp.rx_opt.rcv_tsecr = (tp.rx_opt.rcv_tsecr - tp.tsoffset) >>> 0;
}

/** Reused per segment (filled just before each tcp_parse_options call): no object per segment. */
const parse_sysctls = { tcp_timestamps: 0, tcp_sack: 0, tcp_window_scaling: 0 };

/**
 * tcp_fast_parse_options: the established-state parse. A header of exactly 32 bytes with the
 * aligned NOP,NOP,TS layout is read directly (tcp_parse_aligned_timestamp); anything else parses.
 * A TSecr seen is stored less tsoffset, as the kernel keeps it.
 */
export function tcp_fast_parse_options(tp: TcpSock, v: DataView, th: number, doff: number, sack: ParsedSack): void {
  if (doff === 5) {
    tp.rx_opt.saw_tstamp = false;
    tp.rx_opt.num_sacks = 0;
    sack.n = sack.off = 0;
    return;
  }
  if (tp.rx_opt.tstamp_ok && doff === 8 && v.getUint32(th + 20) === 0x0101080a) {
    tp.rx_opt.saw_tstamp = true;
    tp.rx_opt.rcv_tsval = v.getUint32(th + 24);
    tp.rx_opt.rcv_tsecr = v.getUint32(th + 28);
    tcp_tsecr_unoffset(tp);
    tp.rx_opt.num_sacks = 0;
    sack.n = sack.off = 0;
    return;
  }
  const n = tp.skc_net.ipv4;
  parse_sysctls.tcp_timestamps = n.sysctl_tcp_timestamps;
  parse_sysctls.tcp_sack = n.sysctl_tcp_sack;
  parse_sysctls.tcp_window_scaling = n.sysctl_tcp_window_scaling;
  tcp_parse_options(v, th, doff, false, tp.rx_opt, sack, parse_sysctls);
  if (tp.rx_opt.saw_tstamp) tcp_tsecr_unoffset(tp);
}

/** The bytes the options take on the wire (a multiple of 4). */
export function tcp_options_size(opts: TcpOutOptions): number {
  let size = 0;
  if (opts.mss !== 0) size += TCPOLEN.TCPOLEN_MSS;
  if (opts.options & OPTION.OPTION_TS) size += TCPOLEN.TCPOLEN_TSTAMP_ALIGNED;
  else if (opts.options & OPTION.OPTION_SACK_ADVERTISE) size += TCPOLEN.TCPOLEN_SACKPERM_ALIGNED;
  if (opts.options & OPTION.OPTION_WSCALE) size += TCPOLEN.TCPOLEN_WSCALE_ALIGNED;
  if (opts.num_sack_blocks !== 0) size += TCPOLEN.TCPOLEN_SACK_BASE_ALIGNED + opts.num_sack_blocks * TCPOLEN.TCPOLEN_SACK_PERBLOCK;
  return size;
}

/** tcp_options_write: the options at `off`, in Linux's order. */
export function tcp_options_write(v: DataView, off: number, opts: TcpOutOptions): void {
  let p = off;
  if (opts.mss !== 0) {
    v.setUint32(p, (TCPOPT_MSS << 24) | (TCPOLEN.TCPOLEN_MSS << 16) | opts.mss);
    p += 4;
  }
  if (opts.options & OPTION.OPTION_TS) {
    if (opts.options & OPTION.OPTION_SACK_ADVERTISE) {
      v.setUint32(p, (TCPOPT_SACK_PERM << 24) | (TCPOLEN.TCPOLEN_SACK_PERM << 16) | (TCPOPT_TIMESTAMP << 8) | TCPOLEN.TCPOLEN_TIMESTAMP);
    } else {
      v.setUint32(p, (TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) | (TCPOPT_TIMESTAMP << 8) | TCPOLEN.TCPOLEN_TIMESTAMP);
    }
    v.setUint32(p + 4, opts.tsval >>> 0);
    v.setUint32(p + 8, opts.tsecr >>> 0);
    p += 12;
  } else if (opts.options & OPTION.OPTION_SACK_ADVERTISE) {
    v.setUint32(p, (TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) | (TCPOPT_SACK_PERM << 8) | TCPOLEN.TCPOLEN_SACK_PERM);
    p += 4;
  }
  if (opts.options & OPTION.OPTION_WSCALE) {
    v.setUint32(p, (TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) | (TCPOLEN.TCPOLEN_WINDOW << 8) | opts.ws);
    p += 4;
  }
  if (opts.num_sack_blocks !== 0) {
    v.setUint32(p, (TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) | (TCPOPT_SACK << 8) | (TCPOLEN.TCPOLEN_SACK_BASE + opts.num_sack_blocks * TCPOLEN.TCPOLEN_SACK_PERBLOCK));
    p += 4;
    for (let i = 0; i < opts.num_sack_blocks; i++) {
      const b = opts.sacks[i]!;
      v.setUint32(p, b.start_seq >>> 0);
      v.setUint32(p + 4, b.end_seq >>> 0);
      p += 8;
    }
  }
}

/** tcp_syn_options: the SYN's options for a connecting socket; returns their size. */
export function tcp_syn_options(tp: TcpSock, opts: TcpOutOptions, tsval: number): number {
  const n = tp.skc_net.ipv4;
  opts.reset();
  opts.mss = tcp_advertise_mss(tp);
  if (n.sysctl_tcp_timestamps) {
    opts.options |= OPTION.OPTION_TS;
    opts.tsval = tsval;
    opts.tsecr = tp.rx_opt.ts_recent;
  }
  if (n.sysctl_tcp_window_scaling) {
    opts.ws = tp.rx_opt.rcv_wscale;
    opts.options |= OPTION.OPTION_WSCALE;
  }
  if (n.sysctl_tcp_sack) opts.options |= OPTION.OPTION_SACK_ADVERTISE;
  return tcp_options_size(opts);
}

/** tcp_advertise_mss: the MSS the SYN announces (advmss, lowered to the route's). */
export function tcp_advertise_mss(tp: TcpSock): number {
  return tp.advmss;
}

/** The SYN flag test the parser wants. */
export function tcp_flags_syn(flags: number): boolean {
  return (flags & TCPHDR_SYN) !== 0;
}

/** tcp_paws_check: is the segment's TSval acceptable against ts_recent (RFC 7323 5.3)? */
export function tcp_paws_check(rx_opt: TcpOptionsReceived, paws_win: number, now_sec: number): boolean {
  if (((rx_opt.ts_recent - rx_opt.rcv_tsval) | 0) <= paws_win) return true;
  if (((now_sec - (rx_opt.ts_recent_stamp + TCP_TIMES.TCP_PAWS_WRAP)) | 0) >= 0) return true;
  // Nothing recorded yet (a zero TSval is what some stacks send first).
  if (rx_opt.ts_recent === 0) return true;
  return false;
}
