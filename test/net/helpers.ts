// A small emulated kernel for the socket-table tests: one boot on a virtual clock with a fixed
// seed and fixed secrets, one netns (hash_mix 0), TCP and UDP tables, and bind/listen/connect in
// the shape a socket layer will call them.
import { BootState, type HashSecrets } from '../../net/core/boot-state.ts';
import { inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { AF_INET, IPPROTO_TCP, IPPROTO_UDP, SK_CAN_REUSE, SOCK_DGRAM, SOCK_STREAM, type InetFamily } from '../../net/core/socket-constants.ts';
import { sk_alloc, type Sock } from '../../net/core/sock.ts';
import { sk_daddr_set, sk_rcv_saddr_set, sk_v6_daddr_set, sk_v6_rcv_saddr_set } from '../../net/core/sock-common.ts';
import { TCP_ESTABLISHED, TCP_TIME_WAIT } from '../../net/core/tcp-states.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { __inet_bind } from '../../net/ipv4/af-inet.ts';
import { inet_bind_bucket_create, inet_bind_bucket_find, inet_bind_hash } from '../../net/ipv4/inet-bind-bucket.ts';
import { inet_csk_get_port, inet_csk_listen_start } from '../../net/ipv4/inet-connection-sock.ts';
import { inet_ehash_nolisten } from '../../net/ipv4/inet-hash.ts';
import { InetHashinfo } from '../../net/ipv4/inet-hashinfo.ts';
import { TCP_TIMEWAIT_LEN, inet_twsk_alloc, inet_twsk_hashdance_schedule, type InetTimewaitSock } from '../../net/ipv4/inet-timewait-sock.ts';
import { ip4_datagram_connect } from '../../net/ipv4/datagram.ts';
import { UdpTable, udp_v4_get_port, udp_v6_get_port } from '../../net/ipv4/udp-table.ts';
import { __inet6_bind } from '../../net/ipv6/af-inet6.ts';
import { ip6_datagram_connect } from '../../net/ipv6/datagram.ts';

export const SECRETS = {
  inet_ehash_secret: 0x11111111,
  inet6_ehash_secret: 0x22222222,
  tcp_ipv6_hash_secret: 0x33333333,
  udp_ehash_secret: 0x44444444,
  udp6_ehash_secret: 0x55555555,
  udp_ipv6_hash_secret: 0x66666666,
};

/** The addresses most tests use: the client 10.0.0.2 and the server 10.0.0.1 (u32s). */
export const CLIENT4 = inet_pton4('10.0.0.2');
export const SERVER4 = inet_pton4('10.0.0.1');

export interface Stack {
  clock: VirtualClock;
  boot: BootState;
  net: Net;
  tcp: InetHashinfo;
  udp: UdpTable;
}

export function stack(options: { seed?: number; hash_mix?: number; small?: boolean; secrets?: Partial<HashSecrets> } = {}): Stack {
  const clock = new VirtualClock();
  const boot = new BootState({ clock, seed: options.seed ?? 1, secrets: { ...SECRETS, ...options.secrets } });
  const net = new Net(boot, { hash_mix: options.hash_mix ?? 0 });
  const tcp = new InetHashinfo(options.small ? { ehash_entries: 16, lhash2_entries: 16, bhash_entries: 16 } : {});
  const udp = new UdpTable(options.small ? { entries: 256 } : {});
  return { clock, boot, net, tcp, udp };
}

export interface SockOpts {
  family?: InetFamily;
  reuseaddr?: boolean;
  reuseport?: boolean;
  v6only?: boolean;
  dev?: number;
  uid?: number;
  net?: Net;
}

function make(s: Stack, type: number, protocol: number, o: SockOpts): Sock {
  const sk = sk_alloc(o.net ?? s.net, o.family ?? AF_INET, type, protocol, o.uid ?? 0);
  if (o.reuseaddr) sk.skc_reuse = SK_CAN_REUSE;
  if (o.reuseport) sk.skc_reuseport = true;
  if (o.v6only) sk.skc_ipv6only = true;
  if (o.dev) sk.skc_bound_dev_if = o.dev;
  return sk;
}

export const tcpSock = (s: Stack, o: SockOpts = {}): Sock => make(s, SOCK_STREAM, IPPROTO_TCP, o);
export const udpSock = (s: Stack, o: SockOpts = {}): Sock => make(s, SOCK_DGRAM, IPPROTO_UDP, o);

/** bind(sk, addr, port): an IPv4 or IPv6 address string, picked by the socket's family. 0 or -errno. */
export function bind(s: Stack, sk: Sock, addr: string, port: number): number {
  const tcp = sk.sk_protocol === IPPROTO_TCP;
  if (sk.skc_family === AF_INET) {
    return __inet_bind(sk, inet_pton4(addr), port, (k, p) => (tcp ? inet_csk_get_port(s.tcp, k, p) : udp_v4_get_port(s.udp, k, p)));
  }
  return __inet6_bind(sk, inet_pton6(addr), port, (k, p) => (tcp ? inet_csk_get_port(s.tcp, k, p) : udp_v6_get_port(s.udp, k, p)));
}

/** bind(sk, 0.0.0.0, 0): the ephemeral port it got, or the -errno. */
export function bindEphemeral(s: Stack, sk: Sock): number {
  const r = bind(s, sk, '0.0.0.0', 0);
  return r === 0 ? sk.skc_num : r;
}

export function listen(s: Stack, sk: Sock): number {
  return inet_csk_listen_start(s.tcp, sk);
}

/** A TCP socket bound and listening on (addr, port); throws if it cannot. */
export function listener(s: Stack, addr: string, port: number, o: SockOpts = {}): Sock {
  const sk = tcpSock(s, o);
  const e1 = bind(s, sk, addr, port);
  if (e1) throw new Error(`bind ${addr}:${port}: ${e1}`);
  const e2 = listen(s, sk);
  if (e2) throw new Error(`listen ${addr}:${port}: ${e2}`);
  return sk;
}

/** An established TCP socket for local (laddr, lport) and remote (raddr, rport), in ehash and holding its port. */
export function established(s: Stack, laddr: string, lport: number, raddr: string, rport: number, o: SockOpts = {}): Sock {
  const sk = tcpSock(s, o);
  if (sk.skc_family === AF_INET) {
    sk_rcv_saddr_set(sk, inet_pton4(laddr));
    sk_daddr_set(sk, inet_pton4(raddr));
  } else {
    sk_v6_rcv_saddr_set(sk, inet_pton6(laddr));
    sk_v6_daddr_set(sk, inet_pton6(raddr));
  }
  sk.skc_dport = rport;
  const tb = inet_bind_bucket_find(s.tcp, sk.skc_net, lport) ?? inet_bind_bucket_create(s.tcp, sk.skc_net, lport);
  inet_bind_hash(sk, tb, lport);
  sk.skc_state = TCP_ESTABLISHED;
  inet_ehash_nolisten(s.tcp, sk, null);
  return sk;
}

/** The TIME_WAIT socket that takes `conn`'s ehash slot and joins its bind bucket for TCP_TIMEWAIT_LEN. */
export function timeWait(s: Stack, conn: Sock): InetTimewaitSock {
  const tw = inet_twsk_alloc(conn, TCP_TIME_WAIT);
  inet_twsk_hashdance_schedule(tw, conn, s.tcp, TCP_TIMEWAIT_LEN);
  return tw;
}

/** A UDP socket bound to (addr, port); throws if it cannot. */
export function udpBound(s: Stack, addr: string, port: number, o: SockOpts = {}): Sock {
  const sk = udpSock(s, o);
  const e = bind(s, sk, addr, port);
  if (e) throw new Error(`bind ${addr}:${port}: ${e}`);
  return sk;
}

/** connect() a UDP socket; `src` is the source address the route would pick. */
export function udpConnect(s: Stack, sk: Sock, raddr: string, rport: number, src: string): number {
  if (sk.skc_family === AF_INET) return ip4_datagram_connect(s.udp, sk, inet_pton4(raddr), rport, inet_pton4(src));
  return ip6_datagram_connect(s.udp, sk, inet_pton6(raddr), rport, inet_pton6(src));
}
