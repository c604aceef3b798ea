// The crafted inputs behind expected.json: which object runs which packets. gen-expected.ts runs
// them through the kernel; tests rebuild the same bytes from here (and can check them against
// each case's dataInHex) to run them through bpf-vm.
import {
  ETH_P_8021AD,
  ETH_P_8021Q,
  ETH_P_IP,
  ETH_ZLEN,
  ICMP_ECHOREPLY,
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_IPIP,
  IPPROTO_ROUTING,
  IPPROTO_UDP,
  TCP_ACK,
  TCP_SYN,
  arpFrame,
  ethernet,
  icmp4Echo,
  icmp4EchoFrame,
  icmp6EchoFrame,
  ipv4,
  ipv6,
  padTo,
  tcp4Frame,
  tcp6Frame,
  truncate,
  udp,
  udp4Frame,
  udp64,
  udp6Frame,
  type Ipv6Extension,
  type TcpOptions,
  type VlanTag,
} from '../../support/packets.ts';

export interface MapEntryHex {
  key: string;
  value: string;
}

export interface CorpusPacket {
  /** Unique within one program's list; stable, since golden cases are matched by it. */
  name: string;
  data: Uint8Array;
  /** Map entries written after load, before the run (map name -> entries). */
  mapUpdates?: Record<string, readonly MapEntryHex[]>;
}

export interface CorpusProgram {
  /** Object path relative to the repository root. */
  object: string;
  /** The program's function name inside the object. */
  program: string;
  /** Packets run on top of commonPackets(). */
  extra: () => CorpusPacket[];
}

const QINQ: readonly VlanTag[] = [
  { tpid: ETH_P_8021AD, vid: 100, pcp: 3 },
  { tpid: ETH_P_8021Q, vid: 200 },
];
const DOT1Q: readonly VlanTag[] = [{ vid: 42, pcp: 1 }];

function bytes(n: number, fill = 0): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

/** Every program sees these: the benchmark frame, the common protocols, tags, and runts. */
export function commonPackets(): CorpusPacket[] {
  const u64 = udp64();
  const vlanUdp = udp64({ eth: { vlans: DOT1Q } });
  return [
    { name: 'ipv4-udp64', data: u64 },
    { name: 'ipv4-udp64-seq7', data: udp64({ seq: 7, ipId: 7 }) },
    { name: 'ipv4-udp-512', data: udp4Frame({ udp: { srcPort: 5001, dstPort: 5201 }, payload: bytes(470, 0x5a) }) },
    { name: 'ipv4-tcp-syn', data: padTo(tcp4Frame({ tcp: { flags: TCP_SYN, seq: 1000 } })) },
    { name: 'ipv4-tcp-data', data: tcp4Frame({ tcp: { srcPort: 443, dstPort: 51000 }, payload: bytes(100, 0x61) }) },
    { name: 'ipv4-icmp-echo', data: icmp4EchoFrame({ icmp: { payload: bytes(32, 0x77) } }) },
    { name: 'ipv4-gre', data: padTo(ethernet(ETH_P_IP, ipv4(47, bytes(4)))) },
    { name: 'ipv6-udp', data: udp6Frame({ payload: bytes(16, 1) }) },
    { name: 'ipv6-tcp', data: tcp6Frame({ payload: bytes(8, 2) }) },
    { name: 'ipv6-icmpv6-echo', data: icmp6EchoFrame({ icmp: { payload: bytes(8, 3) } }) },
    {
      name: 'ipv6-hopopts-udp',
      data: udp6Frame({ ip: { extensions: [{ type: IPPROTO_HOPOPTS }] }, payload: bytes(8) }),
    },
    { name: 'vlan-udp64', data: vlanUdp },
    { name: 'qinq-udp64', data: udp64({ eth: { vlans: QINQ } }) },
    { name: 'qinq-ipv6-tcp', data: tcp6Frame({ eth: { vlans: QINQ } }) },
    { name: 'vlan-arp', data: padTo(arpFrame({ eth: { vlans: DOT1Q } })) },
    { name: 'arp-request', data: padTo(arpFrame()) },
    { name: 'trunc-0', data: truncate(u64, 0) },
    { name: 'trunc-13', data: truncate(u64, 13) },
    { name: 'trunc-14', data: truncate(u64, 14) },
    { name: 'trunc-20', data: truncate(u64, 20) },
    { name: 'trunc-33', data: truncate(u64, 33) },
    { name: 'vlan-trunc-16', data: truncate(vlanUdp, 16) },
    { name: 'ipv6-trunc-40', data: truncate(udp6Frame(), 40) },
  ];
}

// ---------------------------------------------------------------------------------------------
// Program-specific inputs

function ipv6Ext(name: string, exts: readonly Ipv6Extension[], vlans: readonly VlanTag[] = []): CorpusPacket {
  return { name, data: udp6Frame({ eth: { vlans }, ip: { extensions: exts }, payload: bytes(8, 9) }) };
}

function ipv6ExtPackets(): CorpusPacket[] {
  const dst: Ipv6Extension = { type: IPPROTO_DSTOPTS };
  const six = Array.from({ length: 6 }, () => dst);
  const seven = Array.from({ length: 7 }, () => dst);
  // hdrlen 2: 24 bytes of options.
  const longHop: Ipv6Extension = { type: IPPROTO_HOPOPTS, data: bytes(22) };
  const full = udp6Frame({ ip: { extensions: [longHop] }, payload: bytes(8) });
  // A header claiming 255 * 8 + 8 = 2048 bytes that the frame does not hold.
  const huge = ethernet(0x86dd, ipv6(IPPROTO_HOPOPTS, Uint8Array.from([IPPROTO_UDP, 255, ...bytes(30)])));
  return [
    ipv6Ext('ext-hop-routing-dst', [{ type: IPPROTO_HOPOPTS }, { type: IPPROTO_ROUTING, data: bytes(14) }, dst]),
    ipv6Ext('ext-fragment', [{ type: IPPROTO_FRAGMENT, data: Uint8Array.from([0, 1, 0, 0, 0, 42]) }]),
    ipv6Ext('ext-ah', [{ type: IPPROTO_AH, data: bytes(22, 0xaa) }]),
    ipv6Ext('ext-six', six),
    ipv6Ext('ext-seven', seven),
    ipv6Ext('ext-qinq-dst-frag', [dst, { type: IPPROTO_FRAGMENT }], QINQ),
    { name: 'ext-long-hop', data: full },
    { name: 'ext-trunc-mid-header', data: truncate(full, 14 + 40 + 10) },
    { name: 'ext-trunc-first-bytes', data: truncate(full, 14 + 40 + 1) },
    { name: 'ext-huge-length', data: huge },
    { name: 'ext-none', data: ethernet(0x86dd, ipv6(59, bytes(0))) },
  ];
}

function vlanPushPopPackets(): CorpusPacket[] {
  const tagged = udp64({ eth: { vlans: [{ vid: 7 }] } });
  return [
    { name: 'vlan-min-18', data: truncate(tagged, 18) },
    { name: 'vlan-short-17', data: truncate(tagged, 17) },
    { name: 'dot1ad-outer-only', data: udp64({ eth: { vlans: [{ tpid: ETH_P_8021AD, vid: 9 }] } }) },
  ];
}

function ipipPackets(): CorpusPacket[] {
  const inner = ipv4(IPPROTO_UDP, udp(bytes(18), { srcPort: 1234, dstPort: 4321 }), { src: '172.16.0.1', dst: '172.16.0.2' });
  const outer = { src: '192.0.2.2', dst: '192.0.2.1', ttl: 63, fragOff: 0x4000 };
  return [
    { name: 'ipip-decap', data: ethernet(ETH_P_IP, ipv4(IPPROTO_IPIP, inner, outer)) },
    {
      name: 'ipip-outer-options',
      data: ethernet(ETH_P_IP, ipv4(IPPROTO_IPIP, inner, { ...outer, options: Uint8Array.from([1, 1, 1, 0]) })),
    },
    { name: 'ipip-outer-only', data: ethernet(ETH_P_IP, ipv4(IPPROTO_IPIP, bytes(0), outer)) },
    { name: 'ipv4-tos-ttl', data: udp4Frame({ ip: { tos: 0xb8, ttl: 5, id: 0xbeef } }) },
  ];
}

function trimPackets(): CorpusPacket[] {
  const ack = tcp4Frame({ tcp: { srcPort: 22, dstPort: 50000 } });
  const big = udp4Frame({ payload: bytes(200, 0x33) });
  return [
    { name: 'tcp-ack-padded', data: padTo(ack, ETH_ZLEN) },
    { name: 'tcp-ack-unpadded', data: ack },
    { name: 'udp-242', data: big },
    { name: 'udp-242-plus-pad', data: padTo(big, big.length + 20) },
    { name: 'ipv4-bogus-totlen-10', data: padTo(ethernet(ETH_P_IP, ipv4(IPPROTO_UDP, udp(bytes(4)), { totalLength: 10 }))) },
    { name: 'ipv4-totlen-too-big', data: ethernet(ETH_P_IP, ipv4(IPPROTO_UDP, udp(bytes(4)), { totalLength: 1000 })) },
    { name: 'ipv6-300', data: udp6Frame({ payload: bytes(238, 0x44) }) },
  ];
}

function flowPackets(): CorpusPacket[] {
  // udp64's flow: 10.0.0.1 -> 10.0.0.2, UDP 9 -> 9; key laid out as struct flow_key.
  const udp64Key = '0a000001' + '0a000002' + '0009' + '0009' + '11' + '000000';
  const seeded = '0500000000000000' + '2c01000000000000'; // 5 packets, 300 bytes
  return [
    { name: 'known-flow', data: udp64(), mapUpdates: { flows: [{ key: udp64Key, value: seeded }] } },
    {
      name: 'other-flow-present',
      data: udp64(),
      mapUpdates: { flows: [{ key: udp64Key.replace('0a000002', '0a000003'), value: seeded }] },
    },
    { name: 'tcp-ip-options', data: tcp4Frame({ ip: { options: Uint8Array.from([1, 1, 1, 0]) }, tcp: { srcPort: 7, dstPort: 8 } }) },
    { name: 'udp-ports-cut', data: truncate(udp64(), 35) },
  ];
}

function globalsPackets(): CorpusPacket[] {
  return [
    { name: 'udp-dns-blocked', data: udp4Frame({ udp: { srcPort: 40000, dstPort: 53 }, payload: bytes(20) }) },
    { name: 'udp-dns-reply', data: udp4Frame({ udp: { srcPort: 53, dstPort: 40000 }, payload: bytes(20) }) },
    { name: 'udp-header-cut', data: truncate(udp4Frame({ udp: { dstPort: 53 } }), 38) },
  ];
}

function subprogPackets(): CorpusPacket[] {
  return [
    { name: 'udp-5353', data: udp4Frame({ udp: { srcPort: 5353, dstPort: 5353 }, ip: { src: '192.168.1.10', dst: '224.0.0.251' } }) },
    { name: 'tcp-8080', data: tcp4Frame({ tcp: { srcPort: 33000, dstPort: 8080 }, ip: { src: '198.51.100.7', dst: '203.0.113.9' } }) },
    { name: 'udp-ports-cut', data: truncate(udp64(), 36) },
  ];
}

function ttlPackets(): CorpusPacket[] {
  return [
    { name: 'ttl-1', data: udp4Frame({ ip: { ttl: 1 } }) },
    { name: 'ttl-2', data: udp4Frame({ ip: { ttl: 2 } }) },
    { name: 'ttl-0', data: udp4Frame({ ip: { ttl: 0 } }) },
    { name: 'ttl-255', data: udp4Frame({ ip: { ttl: 255, id: 0xffff, tos: 0xff } }) },
    { name: 'bad-checksum', data: udp4Frame({ ip: { checksum: 0x1234 } }) },
    { name: 'ip-options', data: udp4Frame({ ip: { options: Uint8Array.from([1, 1, 1, 0]) } }) },
    // All-ones addresses push the header sum near 0xffff, where one's-complement carries bite.
    { name: 'ttl-128-high-addrs', data: udp4Frame({ ip: { ttl: 0x80, src: '255.255.255.255', dst: '255.255.255.254' } }) },
  ];
}

function icmpPackets(): CorpusPacket[] {
  return [
    { name: 'echo-min', data: padTo(icmp4EchoFrame()) },
    { name: 'echo-reply-in', data: icmp4EchoFrame({ icmp: { type: ICMP_ECHOREPLY } }) },
    { name: 'echo-code-1', data: icmp4EchoFrame({ icmp: { code: 1 } }) },
    { name: 'echo-ip-options', data: ethernet(ETH_P_IP, ipv4(1, icmp4Echo(), { options: Uint8Array.from([1, 1, 1, 0]) })) },
    { name: 'echo-cut', data: truncate(icmp4EchoFrame(), 14 + 20 + 4) },
    { name: 'echo-id-f7ff', data: icmp4EchoFrame({ icmp: { id: 0xf7ff, seq: 0 } }) },
  ];
}

/** Two 64-bit operands as arith.c reads them: big-endian, first 16 bytes of the UDP payload. */
function arithPacket(name: string, a: bigint, b: bigint): CorpusPacket {
  const payload = new Uint8Array(16);
  const dv = new DataView(payload.buffer);
  dv.setBigUint64(0, BigInt.asUintN(64, a));
  dv.setBigUint64(8, BigInt.asUintN(64, b));
  return { name, data: udp4Frame({ udp: { srcPort: 0x1234, dstPort: 0xfedc }, payload }) };
}

function arithPackets(): CorpusPacket[] {
  return [
    arithPacket('small', 7n, 3n),
    arithPacket('negative', -5n, 3n),
    arithPacket('min-by-minus-1', -(2n ** 63n), -1n),
    arithPacket('max-unsigned', 2n ** 64n - 1n, 2n ** 64n - 1n),
    arithPacket('mixed', 0x123456789abcdef0n, 0x0fedcba987654321n),
    arithPacket('shift-63', 0x8000000000000001n, 63n),
    arithPacket('shift-64', 0xdeadbeefn, 64n),
    arithPacket('low-half-signed', 0x00000000fffffffen, 0x000000007fff0001n),
    arithPacket('zero', 0n, 0n),
    { name: 'payload-15', data: truncate(arithPacket('x', 1n, 2n).data, 14 + 20 + 8 + 15) },
  ];
}

function redirectPackets(): CorpusPacket[] {
  // Slot 0 -> ifindex 1 (lo exists in every network namespace).
  return [{ name: 'tx-port-set', data: udp64(), mapUpdates: { tx_port: [{ key: '00000000', value: '01000000' }] } }];
}

/** Numbers as text in the first 24 bytes of a UDP payload (NUL-padded), for parse_num.c. */
function numPacket(name: string, text: string): CorpusPacket {
  const payload = new Uint8Array(24);
  payload.set(new TextEncoder().encode(text).subarray(0, 24));
  return { name, data: udp4Frame({ udp: { srcPort: 7, dstPort: 7 }, payload }) };
}

function parseNumPackets(): CorpusPacket[] {
  return [
    numPacket('num-decimal', '12345'),
    numPacket('num-negative-spaces', '   -42xyz'),
    numPacket('num-hex-prefix', '0x1F'),
    numPacket('num-octal', '0777'),
    numPacket('num-hex-digits-no-prefix', 'ffffffffffffffff'),
    numPacket('num-int64-min', '-9223372036854775808'),
    numPacket('num-int64-max-plus-1', '9223372036854775808'),
    numPacket('num-overflow', '99999999999999999999'),
    numPacket('num-just-minus', '-'),
    numPacket('num-no-digits', 'abc'),
    numPacket('num-zero-x', '0x'),
    numPacket('num-tabs-newline', '\t\n 7 8'),
    numPacket('num-plus-sign', '+5'),
    numPacket('num-all-spaces', ' '.repeat(24)),
  ];
}

const none = (): CorpusPacket[] => [];

// sk_guard: SYNs to the guarded ports 47100..47115 are looked up with bpf_sk_lookup_tcp. No socket
// in the test's network namespace listens there, so the kernel's lookup finds nothing, as vxo's does.
function skGuardPackets(): CorpusPacket[] {
  const syn = (dstPort: number): TcpOptions => ({ flags: TCP_SYN, srcPort: 40001, dstPort });
  return [
    { name: 'syn-guarded-v4', data: padTo(tcp4Frame({ tcp: syn(47100) })) },
    { name: 'syn-guarded-v4-last', data: padTo(tcp4Frame({ tcp: syn(47115) })) },
    { name: 'syn-unguarded-v4', data: padTo(tcp4Frame({ tcp: syn(47116) })) },
    { name: 'ack-guarded-v4', data: tcp4Frame({ tcp: { flags: TCP_ACK, dstPort: 47105 }, payload: bytes(10, 0x61) }) },
    { name: 'synack-guarded-v4', data: padTo(tcp4Frame({ tcp: { flags: TCP_SYN | TCP_ACK, dstPort: 47101 } })) },
    { name: 'syn-guarded-v4-ip-options', data: padTo(tcp4Frame({ ip: { options: Uint8Array.from([1, 1, 1, 0]) }, tcp: syn(47102) })) },
    { name: 'syn-guarded-v6', data: tcp6Frame({ tcp: syn(47103) }) },
    { name: 'syn-unguarded-v6', data: tcp6Frame({ tcp: syn(22) }) },
    { name: 'syn-guarded-v4-cut', data: truncate(padTo(tcp4Frame({ tcp: syn(47100) })), 14 + 20 + 12) },
  ];
}

// tcp_mss: SYNs with MSS options above and below the 1360 limit, among NOPs and window scaling,
// a malformed option list, a cut one, and a non-SYN segment carrying an MSS option.
function tcpMssPackets(): CorpusPacket[] {
  const synWith = (options: number[], flags = TCP_SYN): Uint8Array =>
    padTo(tcp4Frame({ tcp: { flags, srcPort: 50123, dstPort: 443, options: Uint8Array.from(options) } }));
  const mss1460 = [2, 4, 0x05, 0xb4];
  return [
    { name: 'syn-mss-1460', data: synWith(mss1460) },
    { name: 'syn-mss-1200', data: synWith([2, 4, 0x04, 0xb0]) },
    { name: 'syn-nops-wscale-mss-9000', data: synWith([1, 1, 1, 1, 3, 3, 7, 1, 2, 4, 0x23, 0x28]) },
    { name: 'syn-sackok-then-mss', data: synWith([4, 2, 1, 1, 2, 4, 0x05, 0xdc]) },
    { name: 'syn-eol-before-mss', data: synWith([0, 0, 0, 0, 2, 4, 0x05, 0xb4]) },
    { name: 'syn-malformed-len0', data: synWith([3, 0, 0, 0, 2, 4, 0x05, 0xb4]) },
    { name: 'syn-no-options', data: synWith([]) },
    { name: 'syn-options-cut', data: truncate(tcp4Frame({ tcp: { flags: TCP_SYN, options: Uint8Array.from([1, 1, 1, 1, 2, 4, 0x05, 0xb4]) } }), 14 + 20 + 20 + 6) },
    { name: 'ack-mss-1460', data: synWith(mss1460, TCP_ACK) },
  ];
}

// tail_grow: UDP frames of several sizes get an 8-byte trailer; other frames pass untouched.
function tailGrowPackets(): CorpusPacket[] {
  return [
    { name: 'udp-1400', data: udp4Frame({ payload: bytes(1358, 0x5c) }) },
    { name: 'udp-42-unpadded', data: udp4Frame({ payload: bytes(0) }) },
    { name: 'udp-ip-options', data: udp4Frame({ ip: { options: Uint8Array.from([1, 1, 1, 0]) }, payload: bytes(12, 7) }) },
  ];
}

function lpmRoutePackets(): CorpusPacket[] {
  // struct route_key: u32 prefixlen (little-endian), then the IPv4 address in network order.
  const route = (plen: number, addr: string, port: number): MapEntryHex => ({
    key: plen.toString(16).padStart(2, '0') + '000000' + addr.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(''),
    value: port.toString(16).padStart(2, '0') + '000000',
  });
  const port = (id: number, ifindex: number): MapEntryHex => ({ key: id.toString(16).padStart(2, '0') + '000000', value: ifindex.toString(16).padStart(2, '0') + '000000' });
  const to = (dst: string, dstPort = 9, src = '10.0.0.1') => udp4Frame({ ip: { src, dst }, udp: { srcPort: 5000, dstPort }, payload: bytes(18) });
  const base = [route(8, '10.0.0.0', 2), route(24, '10.0.0.0', 1), route(24, '10.0.1.0', 3), route(16, '192.168.0.0', 4)];
  return [
    { name: 'routed-24', data: to('10.0.0.2'), mapUpdates: { routes: base, ports: [port(1, 1)] } },
    { name: 'longest-is-8-no-device', data: to('10.9.9.9'), mapUpdates: { routes: base, ports: [port(1, 1)] } },
    { name: 'sibling-24', data: to('10.0.1.200'), mapUpdates: { routes: base, ports: [port(3, 1)] } },
    { name: 'no-route', data: to('172.16.0.1'), mapUpdates: { routes: base } },
    { name: 'exact-32', data: to('10.0.0.2'), mapUpdates: { routes: [...base, route(32, '10.0.0.2', 7)], ports: [port(7, 1)] } },
    { name: 'add-route', data: to('10.0.0.2', 7000), mapUpdates: { routes: base, ports: [port(1, 1)] } },
    { name: 'add-route-exists', data: to('10.0.0.2', 7000), mapUpdates: { routes: [...base, route(32, '10.0.0.1', 5)] } },
    { name: 'delete-route', data: to('10.0.1.9', 7001), mapUpdates: { routes: base, ports: [port(2, 1)] } },
    { name: 'delete-route-missing', data: to('10.0.2.9', 7001), mapUpdates: { routes: base } },
    { name: 'delete-im-parent', data: to('10.0.0.9', 7001), mapUpdates: { routes: [route(24, '10.0.0.0', 1), route(24, '10.0.1.0', 3)] } },
    { name: 'source-counted', data: to('10.0.0.2'), mapUpdates: { routes: base, sources: [{ key: '0a000001', value: '0500000000000000' }] } },
    { name: 'trailing-bits-kept', data: to('10.0.0.2'), mapUpdates: { routes: [route(20, '10.0.15.255', 1)] } },
  ];
}

export const CORPUS_PROGRAMS: readonly CorpusProgram[] = [
  { object: 'scenarios/xdp/xdp1.o', program: 'xdp1', extra: none },
  { object: 'scenarios/xdp/xdp2.o', program: 'xdp2', extra: none },
  { object: 'scenarios/xdp/redirect.o', program: 'xdp_redirect_map', extra: redirectPackets },
  { object: 'scenarios/xdp/rx_drop.o', program: 'rx_drop', extra: none },
  { object: 'test/corpus/c/arith.o', program: 'arith', extra: arithPackets },
  { object: 'test/corpus/c/flow_count.o', program: 'flow_count', extra: flowPackets },
  { object: 'test/corpus/c/globals.o', program: 'globals', extra: globalsPackets },
  { object: 'test/corpus/c/icmp_echo.o', program: 'icmp_echo', extra: icmpPackets },
  { object: 'test/corpus/c/ipip_encap.o', program: 'ipip_encap', extra: ipipPackets },
  { object: 'test/corpus/c/ipv6_ext.o', program: 'ipv6_ext', extra: ipv6ExtPackets },
  { object: 'test/corpus/c/meta_mark.o', program: 'meta_mark', extra: none },
  { object: 'test/corpus/c/subprog.o', program: 'subprog', extra: subprogPackets },
  { object: 'test/corpus/c/parse_num.o', program: 'parse_num', extra: parseNumPackets },
  { object: 'test/corpus/c/printk.o', program: 'printk', extra: none },
  { object: 'test/corpus/c/trim_tail.o', program: 'trim_tail', extra: trimPackets },
  { object: 'test/corpus/c/ttl_csum.o', program: 'ttl_csum', extra: ttlPackets },
  { object: 'test/corpus/c/vlan_push_pop.o', program: 'vlan_push_pop', extra: vlanPushPopPackets },
  { object: 'test/corpus/c/sk_guard.o', program: 'sk_guard', extra: skGuardPackets },
  { object: 'test/corpus/c/tcp_mss.o', program: 'tcp_mss', extra: tcpMssPackets },
  { object: 'test/corpus/c/tail_grow.o', program: 'tail_grow', extra: tailGrowPackets },
  { object: 'test/corpus/c/lpm_route.o', program: 'lpm_route', extra: lpmRoutePackets },
];

/** The full input list of one program: common packets, then its own. Names are unique. */
export function packetsFor(p: CorpusProgram): CorpusPacket[] {
  const all = [...commonPackets(), ...p.extra()];
  const seen = new Set<string>();
  for (const pk of all) {
    if (seen.has(pk.name)) throw new Error(`${p.object}: duplicate packet name ${pk.name}`);
    seen.add(pk.name);
  }
  return all;
}
