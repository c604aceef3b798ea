// A fake ACK clock for congestion-control tests: a TcpSock on a virtual clock that sends a window
// per round trip and gets one ACK per segment spread evenly over the RTT, calling the algorithm's
// pkts_acked then cong_avoid for each, in tcp_ack's order. Sequence numbers count segments.
import { BootState } from '../../net/core/boot-state.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { AF_INET, IPPROTO_TCP, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { TCP_ESTABLISHED } from '../../net/core/tcp-states.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { TcpSock } from '../../net/ipv4/tcp-sock.ts';

export interface Flow {
  clock: VirtualClock;
  net: Net;
  sk: TcpSock;
  /** Sends a window (cwnd segments) and ACKs it over one RTT. `rtt_us` of each ACK's sample. */
  round(rtt_us: number, opts?: { limited?: boolean; spacing_us?: number; per_ack?: number }): void;
  /** Seconds since the flow started. */
  now_s(): number;
}

/**
 * The clock starts at 1000 s (or `start_s`) so tcp_jiffies32 is never 0 (CUBIC reads an
 * epoch_start of 0 as "none").
 */
export function flow(ca_name?: string, seed = 1, start_s = 1000): Flow {
  const clock = new VirtualClock(start_s * 1e9);
  const net = new Net(new BootState({ clock, seed }));
  if (ca_name !== undefined) net.ipv4.sysctl_tcp_congestion_control = ca_name;
  const sk = new TcpSock(net, AF_INET, SOCK_STREAM, IPPROTO_TCP, 0);
  sk.skc_state = TCP_ESTABLISHED;
  const t0 = clock.ktime_get_ns();
  const f: Flow = {
    clock,
    net,
    sk,
    round(rtt_us, opts = {}) {
      const n = sk.snd_cwnd;
      sk.max_packets_out = n;
      sk.packets_out = n;
      sk.is_cwnd_limited = opts.limited ?? true;
      sk.snd_nxt = (sk.snd_nxt + n) >>> 0;
      // A delayed ACK covers per_ack segments (the last one what is left).
      const per = opts.per_ack ?? 1;
      const acks = Math.ceil(n / per);
      const spacing_ns = Math.round((opts.spacing_us ?? rtt_us / acks) * 1000);
      for (let i = 0; i < acks; i++) {
        const k = Math.min(per, n - i * per);
        clock.advance(spacing_ns);
        sk.tcp_mstamp = Math.floor(clock.ktime_get_ns() / 1000);
        sk.snd_una = (sk.snd_una + k) >>> 0;
        sk.packets_out -= k;
        const ops = sk.icsk_ca_ops!;
        ops.pkts_acked?.(sk, { pkts_acked: k, rtt_us, in_flight: sk.packets_out });
        ops.cong_avoid(sk, sk.snd_una, k);
      }
      // What is left of the RTT when the ACKs came faster than one per RTT / acks.
      const left = rtt_us * 1000 - spacing_ns * acks;
      if (left > 0) clock.advance(left);
    },
    now_s() {
      return (clock.ktime_get_ns() - t0) / 1e9;
    },
  };
  return f;
}
