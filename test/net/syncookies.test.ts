// SYN cookies (net/ipv4/syncookies.c, net/ipv6/syncookies.c): the round trip, the MSS tables, what
// a cookie rejects (another 4-tuple, ISN, boot secret, an expired minute counter), the layout
// (count in the top 8 bits, the MSS index added to hash 2 in the low 24) recomputed from the
// kernel's in-memory hash input, the timestamp option bits, and the listener's overflow window.
import test from 'ava';
import { BootState } from '../../net/core/boot-state.ts';
import { inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { siphash } from '../../net/core/siphash.ts';
import { AF_INET, IPPROTO_TCP, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { reuseport_add_sock, reuseport_alloc } from '../../net/core/sock-reuseport.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import {
  COOKIEBITS, COOKIEMASK, MAX_SYNCOOKIE_AGE, TCP_SYNCOOKIE_VALID, TS_OPT_ECN, TS_OPT_SACK, TS_OPT_WSCALE_MASK,
  __cookie_v4_check, __cookie_v4_init_sequence, check_tcp_syn_cookie, cookie_ecn_ok, cookie_init_timestamp,
  cookie_timestamp_decode, msstab, syncookie_secret, tcp_cookie_time, tcp_synq_no_recent_overflow, tcp_synq_overflow,
} from '../../net/ipv4/syncookies.ts';
import { TcpOptionsReceived, TcpSock } from '../../net/ipv4/tcp-sock.ts';
import { __cookie_v6_check, __cookie_v6_init_sequence, msstab6, syncookie6_secret } from '../../net/ipv6/syncookies.ts';

const NS_PER_S = 1_000_000_000;

function setup(seed = 1): { clock: VirtualClock; net: Net } {
  const clock = new VirtualClock();
  const net = new Net(new BootState({ clock, seed }));
  return { clock, net };
}

const C = inet_pton4('192.0.2.7');
const S = inet_pton4('10.0.0.1');
const C6 = inet_pton6('2001:db8::7');
const S6 = inet_pton6('2001:db8::1');

function v4(net: Net, isn: number, mss: number, sport = 40000): { cookie: number; mss: number } {
  const mssp = { mss };
  const cookie = __cookie_v4_init_sequence(net, C, S, sport, 80, isn, mssp);
  return { cookie, mss: mssp.mss };
}

test('v4 round trip: the ACK of a cookie SYN-ACK decodes to the MSS it encoded', (t) => {
  const { net } = setup();
  for (const isn of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 123456789]) {
    const { cookie, mss } = v4(net, isn, 1460);
    t.is(mss, 1460);
    t.true(cookie >= 0 && cookie <= 0xffffffff);
    t.is(__cookie_v4_check(net, C, S, 40000, 80, isn, cookie), 1460, `isn ${isn}`);
  }
});

test('v4 MSS index: the largest table entry not above the SYN\'s MSS, 536 at least', (t) => {
  const { net } = setup();
  t.deepEqual([...msstab], [536, 1300, 1440, 1460]);
  const cases: [number, number][] = [[0, 536], [88, 536], [536, 536], [1299, 536], [1300, 1300], [1439, 1300], [1440, 1440],
    [1452, 1440], [1459, 1440], [1460, 1460], [8960, 1460], [65535, 1460]];
  for (const [given, want] of cases) {
    const { cookie, mss } = v4(net, 1000, given);
    t.is(mss, want, `mss ${given} is lowered to ${want}`);
    t.is(__cookie_v4_check(net, C, S, 40000, 80, 1000, cookie), want);
  }
});

test('v4 rejects: another address, port, ISN or cookie; another boot\'s secret', (t) => {
  const { net } = setup();
  const { cookie } = v4(net, 5000, 1460);
  t.is(__cookie_v4_check(net, C + 1, S, 40000, 80, 5000, cookie), 0, 'saddr');
  t.is(__cookie_v4_check(net, C, S + 1, 40000, 80, 5000, cookie), 0, 'daddr');
  t.is(__cookie_v4_check(net, C, S, 40001, 80, 5000, cookie), 0, 'sport');
  t.is(__cookie_v4_check(net, C, S, 40000, 81, 5000, cookie), 0, 'dport');
  t.is(__cookie_v4_check(net, C, S, 40000, 80, 5004, cookie), 0, 'client ISN');
  // The ISN and the index are added, not hashed, as in the kernel: a cookie 2 lower reads as MSS
  // index 1 (a forger gains nothing: the hashes still have to be right).
  t.is(__cookie_v4_check(net, C, S, 40000, 80, 5000, (cookie - 2) >>> 0), msstab[1]!, 'cookie - 2: index 1');
  t.is(__cookie_v4_check(net, C, S, 40000, 80, 5002, cookie), msstab[1]!, 'ISN + 2: index 1');
  t.is(__cookie_v4_check(net, C, S, 40000, 80, 5000, (cookie + 1) >>> 0), 0, 'cookie + 1');
  t.is(__cookie_v4_check(net, C, S, 40000, 80, 5000, (cookie ^ 0x80000000) >>> 0), 0, 'cookie with another counter');
  // Random guesses: a forged cookie passes only with probability about 2/256 * 4/2^24.
  let passed = 0;
  for (let i = 0; i < 20000; i++) if (__cookie_v4_check(net, C, S, 40000 + (i % 7), 80, i, (i * 2654435761) >>> 0)) passed++;
  t.is(passed, 0);
  const other = setup(2).net;
  t.is(__cookie_v4_check(other, C, S, 40000, 80, 5000, cookie), 0, 'another boot (secret)');
  const sameBoot = new Net(net.boot);
  t.is(__cookie_v4_check(sameBoot, C, S, 40000, 80, 5000, cookie), 1460, 'every netns of a boot shares syncookie_secret');
});

test('v4 age: good while the minute counter has moved less than MAX_SYNCOOKIE_AGE', (t) => {
  const { clock, net } = setup();
  t.is(MAX_SYNCOOKIE_AGE, 2);
  clock.advance(30 * NS_PER_S);
  t.is(tcp_cookie_time(net), 0);
  const { cookie } = v4(net, 77, 1300);
  clock.advance(89 * NS_PER_S + 999_000_000); // 119.999 s: counter 1
  t.is(tcp_cookie_time(net), 1);
  t.is(__cookie_v4_check(net, C, S, 40000, 80, 77, cookie), 1300);
  clock.advance(1_000_000); // 120 s: counter 2, two minutes on
  t.is(tcp_cookie_time(net), 2);
  t.is(__cookie_v4_check(net, C, S, 40000, 80, 77, cookie), 0);
  // One made just before a minute boundary lives only about a minute.
  clock.advance(59 * NS_PER_S + 999_000_000); // 179.999 s
  const late = v4(net, 78, 1300).cookie;
  clock.advance(60 * NS_PER_S); // 239.999 s: counter 3, one on
  t.is(__cookie_v4_check(net, C, S, 40000, 80, 78, late), 1300);
  clock.advance(1_000_000);
  t.is(__cookie_v4_check(net, C, S, 40000, 80, 78, late), 0);
  // check_tcp_syn_cookie reports the expiry as (u32)-1.
  t.is(check_tcp_syn_cookie(net, late, C, S, 40000, 80, 78), 0xffffffff);
});

test('v4 layout: (cookie - hash1 - isn) holds the counter in its top 8 bits and hash2 + mssind in the low 24', (t) => {
  const { clock, net } = setup();
  clock.advance(5 * 60 * NS_PER_S + 1); // counter 5
  const [k0, k1] = syncookie_secret(net);
  // The kernel's hash input as it lies in memory on x86-64: saddr, daddr (network order), then the
  // u32 (be16 sport << 16 | be16 dport) little-endian, i.e. dport's bytes then sport's, then count.
  const mem = (count: number): Uint8Array => {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, C);
    dv.setUint32(4, S);
    dv.setUint16(8, 80);
    dv.setUint16(10, 40000);
    dv.setUint32(12, count, true);
    return b;
  };
  for (const [mssind, mss] of msstab.entries()) {
    const isn = 0xfedcba98;
    const { cookie } = v4(net, isn, mss);
    const h0 = siphash(mem(0), 0, 16, k0);
    const h1 = siphash(mem(5), 0, 16, k1);
    const rest = (cookie - h0 - isn) >>> 0;
    t.is(rest >>> COOKIEBITS, 5, 'count');
    t.is(rest & COOKIEMASK, (h1 + mssind) & COOKIEMASK, `mss index ${mssind}`);
  }
});

test('fixed secrets give a fixed cookie (a regression value for the kernel layout)', (t) => {
  const { net } = setup();
  const [k0, k1] = syncookie_secret(net);
  Object.assign(k0, { k0lo: 0x03020100, k0hi: 0x07060504, k1lo: 0x0b0a0908, k1hi: 0x0f0e0d0c });
  Object.assign(k1, { k0lo: 0x13121110, k0hi: 0x17161514, k1lo: 0x1b1a1918, k1hi: 0x1f1e1d1c });
  const { cookie } = v4(net, 0x01020304, 1460);
  const b = new Uint8Array([192, 0, 2, 7, 10, 0, 0, 1, 0, 80, 0x9c, 0x40, 0, 0, 0, 0]);
  const h0 = siphash(b, 0, 16, k0);
  const h1 = siphash(b, 0, 16, k1);
  t.is(cookie, (h0 + 0x01020304 + ((h1 + 3) & COOKIEMASK)) >>> 0);
});

test('cookie_init_timestamp: the options in the TSval\'s low 6 bits, never ahead of now', (t) => {
  const { net } = setup();
  const now = 1_000_000; // 1_000_000 % 64 = 0
  const all = cookie_init_timestamp(net, { wscale_ok: true, snd_wscale: 7, sack_ok: true, ecn_ok: true }, now + 63);
  t.is(all & 63, 7 | TS_OPT_SACK | TS_OPT_ECN);
  t.is(all, now + 55);
  const stepped = cookie_init_timestamp(net, { wscale_ok: true, snd_wscale: 7, sack_ok: true, ecn_ok: true }, now + 10);
  t.is(stepped, now - 64 + 55, 'would be ahead of now: 64 ms earlier');
  const none = cookie_init_timestamp(net, { wscale_ok: false, snd_wscale: 0, sack_ok: false, ecn_ok: false }, now + 20);
  t.is(none & 63, TS_OPT_WSCALE_MASK, 'no window scaling is 0xf');
  t.true(none <= now + 20);
});

test('cookie_timestamp_decode and cookie_ecn_ok: options back from the TSecr, refused when switched off here', (t) => {
  const { net } = setup();
  const opt = (tsecr: number, saw = true): TcpOptionsReceived => {
    const o = new TcpOptionsReceived();
    o.saw_tstamp = saw;
    o.rcv_tsecr = tsecr;
    return o;
  };
  const ts = cookie_init_timestamp(net, { wscale_ok: true, snd_wscale: 9, sack_ok: true, ecn_ok: true }, 5_000_000);
  const o = opt(ts);
  t.true(cookie_timestamp_decode(net, o));
  t.true(o.sack_ok);
  t.true(o.wscale_ok);
  t.is(o.snd_wscale, 9);
  t.true(cookie_ecn_ok(o, net));

  const plain = opt(cookie_init_timestamp(net, { wscale_ok: false, snd_wscale: 0, sack_ok: false, ecn_ok: false }, 5_000_000));
  t.true(cookie_timestamp_decode(net, plain));
  t.false(plain.sack_ok);
  t.false(plain.wscale_ok);
  t.false(cookie_ecn_ok(plain, net));

  const noTs = opt(0, false);
  Object.assign(noTs, { sack_ok: true, wscale_ok: true, snd_wscale: 3, tstamp_ok: true });
  t.true(cookie_timestamp_decode(net, noTs), 'no timestamp: nothing survives, but the cookie is fine');
  t.false(noTs.sack_ok || noTs.wscale_ok || noTs.tstamp_ok);
  t.is(noTs.snd_wscale, 0);

  net.ipv4.sysctl_tcp_window_scaling = 0;
  t.false(cookie_timestamp_decode(net, opt(ts)), 'wscale encoded but window scaling is off');
  net.ipv4.sysctl_tcp_window_scaling = 1;
  net.ipv4.sysctl_tcp_sack = 0;
  t.false(cookie_timestamp_decode(net, opt(ts)), 'SACK encoded but SACK is off');
  net.ipv4.sysctl_tcp_sack = 1;
  net.ipv4.sysctl_tcp_timestamps = 0;
  t.false(cookie_timestamp_decode(net, opt(ts)), 'a timestamp while timestamps are off');
  net.ipv4.sysctl_tcp_timestamps = 1;
  net.ipv4.sysctl_tcp_ecn = 0;
  t.false(cookie_ecn_ok(opt(ts), net));
  t.true(cookie_ecn_ok(opt(ts), net, true), 'the route\'s ECN feature');
});

test('tcp_synq_overflow / tcp_synq_no_recent_overflow: cookie ACKs are checked for TCP_SYNCOOKIE_VALID after the last overflow', (t) => {
  const { clock, net } = setup();
  const sk = new TcpSock(net, AF_INET, SOCK_STREAM, IPPROTO_TCP, 0);
  t.true(tcp_synq_no_recent_overflow(sk), 'a listener that never overflowed');
  clock.advance(10 * NS_PER_S);
  tcp_synq_overflow(sk);
  t.false(tcp_synq_no_recent_overflow(sk));
  clock.advance(500_000_000);
  tcp_synq_overflow(sk); // within a second: the stamp stays at 10 s
  clock.advance(TCP_SYNCOOKIE_VALID * 1_000_000 - 500_000_000); // 130 s: last + VALID exactly
  t.false(tcp_synq_no_recent_overflow(sk));
  clock.advance(1_000_000);
  t.true(tcp_synq_no_recent_overflow(sk), 'one jiffy past the window');
  tcp_synq_overflow(sk);
  t.false(tcp_synq_no_recent_overflow(sk));
});

test('tcp_synq_overflow on a reuseport listener stamps the group', (t) => {
  const { clock, net } = setup();
  const a = new TcpSock(net, AF_INET, SOCK_STREAM, IPPROTO_TCP, 0);
  const b = new TcpSock(net, AF_INET, SOCK_STREAM, IPPROTO_TCP, 0);
  a.skc_reuseport = b.skc_reuseport = true;
  reuseport_alloc(a, true);
  reuseport_add_sock(b, a, true);
  clock.advance(NS_PER_S);
  t.true(tcp_synq_no_recent_overflow(b));
  tcp_synq_overflow(a);
  t.false(tcp_synq_no_recent_overflow(b), 'the other member sees the group\'s overflow');
  clock.advance((TCP_SYNCOOKIE_VALID + 1) * 1_000_000);
  t.true(tcp_synq_no_recent_overflow(b));
});

test('v6 round trip, MSS table and rejections; its secrets are not IPv4\'s', (t) => {
  const { clock, net } = setup();
  t.deepEqual([...msstab6], [1220, 1420, 1440, 8940]);
  const cases: [number, number][] = [[536, 1220], [1220, 1220], [1419, 1220], [1420, 1420], [1440, 1440], [1460, 1440], [8939, 1440], [8940, 8940], [65535, 8940]];
  for (const [given, want] of cases) {
    const mssp = { mss: given };
    const cookie = __cookie_v6_init_sequence(net, C6, S6, 50000, 443, 999, mssp);
    t.is(mssp.mss, want);
    t.is(__cookie_v6_check(net, C6, S6, 50000, 443, 999, cookie), want);
  }
  const cookie = __cookie_v6_init_sequence(net, C6, S6, 50000, 443, 999, { mss: 1440 });
  t.is(__cookie_v6_check(net, inet_pton6('2001:db8::8'), S6, 50000, 443, 999, cookie), 0);
  t.is(__cookie_v6_check(net, C6, S6, 50001, 443, 999, cookie), 0);
  t.is(__cookie_v6_check(net, C6, S6, 50000, 443, 1003, cookie), 0);
  t.not(syncookie6_secret(net)[0], syncookie_secret(net)[0]);
  t.not(syncookie6_secret(net)[0].k0lo, syncookie_secret(net)[0].k0lo);
  clock.advance(120 * NS_PER_S);
  t.is(__cookie_v6_check(net, C6, S6, 50000, 443, 999, cookie), 0, 'expired');
});

test('v6 layout: the 40-byte struct { saddr, daddr, count, sport, dport } as it lies in memory', (t) => {
  const { clock, net } = setup();
  clock.advance(3 * 60 * NS_PER_S);
  const [k0, k1] = syncookie6_secret(net);
  const mem = (count: number): Uint8Array => {
    const b = new Uint8Array(40);
    const dv = new DataView(b.buffer);
    for (const [i, w] of [C6.w0, C6.w1, C6.w2, C6.w3, S6.w0, S6.w1, S6.w2, S6.w3].entries()) dv.setUint32(4 * i, w);
    dv.setUint32(32, count, true);
    dv.setUint16(36, 50000);
    dv.setUint16(38, 443);
    return b;
  };
  const isn = 0x11223344;
  const cookie = __cookie_v6_init_sequence(net, C6, S6, 50000, 443, isn, { mss: 1500 });
  const h0 = siphash(mem(0), 0, 40, k0);
  const h1 = siphash(mem(3), 0, 40, k1);
  t.is(cookie, (h0 + isn + (3 << COOKIEBITS) + ((h1 + 2) & COOKIEMASK)) >>> 0);
});
