// RFC 5961 challenge ACKs and the out-of-window ACK rate limits (tcp_send_challenge_ack,
// tcp_oow_rate_limited): a RST or SYN that is in the window but not exactly expected, and a too
// old ACK, get one ACK back, which a real peer answers with a correct RST and a blind attacker
// cannot use. Rate limited per socket (net.ipv4.tcp_invalid_ratelimit, 500 ms) and per netns
// (tcp_challenge_ack_limit per second, randomized as in Linux).
import type { Net } from '../core/net-namespace.ts';
import type { TcpSock } from './tcp-sock.ts';
import type { SkBuff } from '../core/skbuff.ts';
import type { LinuxMib } from '../core/snmp.ts';
import { tcp_send_ack } from './tcp-output.ts';

/**
 * __tcp_oow_rate_limited: true (and `mib` counted) when an out-of-window ACK went out less than
 * tcp_invalid_ratelimit ago; otherwise records now. `holder` keeps the time (a socket, a TIME_WAIT or request sock).
 */
export function tcp_oow_rate_limited(net: Net, holder: { last_oow_ack_time: number }, mib: keyof LinuxMib, skb?: SkBuff): boolean {
  // Data segments (without SYN) cannot be part of an ACK loop: never limited.
  if (skb !== undefined && skb.cb.seq !== skb.cb.end_seq && !(skb.cb.tcp_flags & 0x02)) return false;
  const now = net.boot.clock.get_jiffies_64();
  if (holder.last_oow_ack_time !== 0) {
    const elapsed = now - holder.last_oow_ack_time;
    if (elapsed >= 0 && elapsed < net.ipv4.sysctl_tcp_invalid_ratelimit) {
      net.mib.net[mib]++;
      return true;
    }
  }
  holder.last_oow_ack_time = now === 0 ? 1 : now;
  return false;
}

const challenge = new WeakMap<Net, { timestamp: number; count: number }>();

/** tcp_send_challenge_ack. TCPChallengeACK. */
export function tcp_send_challenge_ack(tp: TcpSock): void {
  const net = tp.skc_net;
  if (tcp_oow_rate_limited(net, tp, 'TCPACKSkippedChallenge')) return;
  const limit = net.ipv4.sysctl_tcp_challenge_ack_limit;
  if (limit !== 0x7fffffff) {
    let st = challenge.get(net);
    if (st === undefined) {
      st = { timestamp: -1, count: 0 };
      challenge.set(net, st);
    }
    const now = Math.floor(net.boot.clock.get_jiffies_64() / 1000);
    if (now !== st.timestamp) {
      const half = (limit + 1) >> 1;
      st.timestamp = now;
      st.count = half + net.boot.random.get_random_u32_below(limit);
    }
    if (st.count <= 0) return;
    st.count--;
  }
  net.mib.net.TCPChallengeACK++;
  tcp_send_ack(tp);
}
