// The socket-aware programs of scenarios/sk on vxo: each object loads with vxo's ELF loader with
// the program type, maps and layouts README.md documents, passes vxo's verifier, and behaves as
// documented on both engines against a small BpfNetHost written here (sockets as plain objects:
// the host answers lookups by port, counts references, and applies bpf_sk_assign's checks). The
// real stack's host and real traffic are the scenarios' tests; the kernel comparison is
// test/kernel/sk-programs.test.ts.
//
// Pieces of issue 16 these tests need (built in parallel; marked "DEPENDS ON" per test):
// - H1: SkbProgramRunner / bpfProgTestRunSkb, __sk_buff context access (tc_tproxy, sf_drop);
// - H2: SK_LOOKUP context access, SkLookupProgramRunner / bpfProgTestRunSkLookup, bpf_sk_assign
//   (tc and SK_LOOKUP), the sockmap lookup as an acquired socket, socket helpers at run time;
// - H3: SOCKMAP (cookie level), LPM_TRIE.
import test, { type ExecutionContext } from 'ava';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../../bpf-vm/maps/map.ts';
import { asSockMap } from '../../bpf-vm/maps/sock-map-ops.ts';
import { BPF_SOCK } from '../../bpf-vm/prog/bpf-sock.ts';
import { loadObjectFile, type Collection } from '../../bpf-vm/prog/collection.ts';
import { SkLookupProgramRunner } from '../../bpf-vm/prog/sk-lookup-runner.ts';
import { SkbProgramRunner } from '../../bpf-vm/prog/skb-runner.ts';
import type { BpfLookupCaller, BpfNetHost, BpfSkb, BpfSkLookupKern, BpfSkLookupKind, BpfSockRef } from '../../bpf-vm/prog/sock-host.ts';
import { BPF_SK_LOOKUP_KIND } from '../../bpf-vm/prog/sock-host.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { bpfProgTestRunSkb } from '../../bpf-vm/prog/test-run-skb.ts';
import { bpfProgTestRunSkLookup } from '../../bpf-vm/prog/test-run-sk-lookup.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { VerifierError, verifyProgram } from '../../bpf-vm/verifier/index.ts';
import {
  IPPROTO_HOPOPTS, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_SYN, arpFrame, icmp4EchoFrame, parseIpv4,
  parseIpv6, tcp4Frame, tcp6Frame, truncate, udp4Frame, udp6Frame,
} from '../support/packets.ts';
import {
  AF_INET, AF_INET6, B, FW, M, OBJ, SC, SK_DROP, SK_PASS, T, TC_ACT_OK, TC_ACT_SHOT, XDP_DROP, XDP_PASS, binding, bindKey, u32le,
} from '../support/sk-programs.ts';


const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const BPF_TCP_ESTABLISHED = 1;
const BPF_TCP_TIME_WAIT = 6;
const BPF_TCP_CLOSE = 7;
const BPF_TCP_LISTEN = 10;
const BPF_F_NO_PREALLOC = 1;
const BPF_SK_LOOKUP_F_REPLACE = 1n;
const BPF_SK_LOOKUP_F_NO_REUSEPORT = 2n;
const EINVAL = 22;
const EEXIST = 17;
const EPROTOTYPE = 91;
const ESOCKTNOSUPPORT = 94;
const EAFNOSUPPORT = 97;
const ENETUNREACH = 101;


// ---------------------------------------------------------------------------------------------
// Keys and contexts, as README.md lays them out




function words6(addr: string): { w0: number; w1: number; w2: number; w3: number } {
  const dv = new DataView(parseIpv6(addr).buffer);
  return { w0: dv.getUint32(0), w1: dv.getUint32(4), w2: dv.getUint32(8), w3: dv.getUint32(12) };
}

const NO_V6 = { w0: 0, w1: 0, w2: 0, w3: 0 } as const;

/** bpf_sk_lookup_kern for a lookup of protocol to local:port from remote:remotePort. */
function lookupKern(protocol: number, remote: string, remotePort: number, local: string, localPort: number): BpfSkLookupKern {
  const v6 = local.includes(':');
  const v4 = (a: string): number => new DataView(parseIpv4(a).buffer).getUint32(0);
  return {
    family: v6 ? AF_INET6 : AF_INET,
    protocol,
    v4_saddr: v6 ? 0 : v4(remote),
    v4_daddr: v6 ? 0 : v4(local),
    v6_saddr: v6 ? words6(remote) : NO_V6,
    v6_daddr: v6 ? words6(local) : NO_V6,
    sport: remotePort,
    dport: localPort,
    ingress_ifindex: 1,
    selected_sk: null,
    no_reuseport: false,
  };
}

/** struct bpf_sk_lookup (72 bytes) for BPF_PROG_TEST_RUN's ctx_in. */
function skLookupCtx(protocol: number, remote: string, remotePort: number, local: string, localPort: number): Uint8Array {
  const b = new Uint8Array(72);
  const dv = new DataView(b.buffer);
  const v6 = local.includes(':');
  dv.setUint32(8, v6 ? AF_INET6 : AF_INET, true);
  dv.setUint32(12, protocol, true);
  if (v6) {
    b.set(parseIpv6(remote), 20);
    b.set(parseIpv6(local), 44);
  } else {
    b.set(parseIpv4(remote), 16);
    b.set(parseIpv4(local), 40);
  }
  dv.setUint16(36, remotePort, false);
  dv.setUint32(60, localPort, true);
  return b;
}

function words(coll: Collection, name: string): bigint[] {
  const map: BpfMap | undefined = coll.maps.get(name);
  if (map === undefined) throw new Error(`no map ${name}`);
  const out: bigint[] = [];
  for (let i = 0; i < map.spec.maxEntries; i++) {
    const v = map.lookup(u32le(i));
    if (v === undefined) throw new Error(`${name}[${i}] missing`);
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    for (let o = 0; o + 8 <= v.byteLength; o += 8) out.push(dv.getBigUint64(o, true));
  }
  return out;
}

function counts(nr: number, set: Record<number, number>): bigint[] {
  return Array.from({ length: nr }, (_, i) => BigInt(set[i] ?? 0));
}

function update(t: ExecutionContext, coll: Collection, name: string, key: Uint8Array, value: Uint8Array): void {
  const map = coll.maps.get(name);
  if (map === undefined) throw new Error(`no map ${name}`);
  t.is(map.update(key, value), 0, `update ${name}`);
}

// ---------------------------------------------------------------------------------------------
// A host with sockets as plain objects

interface FakeSock {
  readonly name: string;
  readonly family: number;
  readonly type: number;
  readonly protocol: number;
  readonly state: number;
  /** Local port (host order). */
  readonly port: number;
  /** For a connected socket: the remote port it matches (host order). */
  readonly remotePort?: number;
  readonly v6only?: boolean;
  readonly cookie: bigint;
}

let nextCookie = 1000n;
function sock(name: string, protocol: number, state: number, port: number, extra: { family?: number; remotePort?: number; v6only?: boolean } = {}): FakeSock {
  return {
    name, family: extra.family ?? AF_INET6, type: protocol === IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM, protocol, state, port,
    ...(extra.remotePort === undefined ? {} : { remotePort: extra.remotePort }),
    ...(extra.v6only === undefined ? {} : { v6only: extra.v6only }),
    cookie: nextCookie++,
  };
}

function isFake(sk: BpfSockRef | null): sk is FakeSock {
  return sk !== null && 'cookie' in sk && 'name' in sk;
}

interface LookupCall {
  kind: BpfSkLookupKind;
  family: number;
  /** The tuple as given, hex. */
  tuple: string;
}

class FakeHost implements BpfNetHost {
  readonly netns_id = 0;
  readonly lookups: LookupCall[] = [];
  /** References handed out (lookups, sockmap lookups) minus releases. */
  outstanding = 0;
  /** What bpf_sk_assign at tc returns (after recording). */
  skbAssignResult = 0;
  readonly skbAssigned: FakeSock[] = [];

  constructor(readonly socks: readonly FakeSock[]) {}

  sk_lookup(_caller: BpfLookupCaller, kind: BpfSkLookupKind, family: number, tuple: Uint8Array, _netns: bigint): BpfSockRef | null {
    this.lookups.push({ kind, family, tuple: Buffer.from(tuple).toString('hex') });
    const dv = new DataView(tuple.buffer, tuple.byteOffset, tuple.byteLength);
    const sportOff = family === AF_INET ? 8 : 32;
    const sport = dv.getUint16(sportOff, false);
    const dport = dv.getUint16(sportOff + 2, false);
    const protocol = kind === BPF_SK_LOOKUP_KIND.SK_UDP ? IPPROTO_UDP : IPPROTO_TCP;
    const match = (s: FakeSock): boolean => s.protocol === protocol && s.port === dport && !(family === AF_INET && s.v6only === true) &&
      !(family === AF_INET6 && s.family === AF_INET);
    // As ehash before the listeners: a connected socket of this remote port first.
    let s = this.socks.find((x) => match(x) && x.remotePort === sport) ?? this.socks.find((x) => match(x) && x.remotePort === undefined);
    // bpf_sk_lookup_tcp never returns a TIME_WAIT socket.
    if (s !== undefined && kind === BPF_SK_LOOKUP_KIND.SK_TCP && s.state === BPF_TCP_TIME_WAIT) s = undefined;
    if (s === undefined) return null;
    this.outstanding++;
    return s;
  }

  sk_release(_sk: BpfSockRef): void {
    this.outstanding--;
  }

  fill_bpf_sock(sk: BpfSockRef, dv: DataView, off: number): void {
    if (!isFake(sk)) throw new Error('not a fake socket');
    dv.setUint32(off + BPF_SOCK.family, sk.family, true);
    dv.setUint32(off + BPF_SOCK.type, sk.type, true);
    dv.setUint32(off + BPF_SOCK.protocol, sk.protocol, true);
    dv.setUint32(off + BPF_SOCK.src_port, sk.port, true);
    dv.setUint16(off + BPF_SOCK.dst_port, sk.remotePort ?? 0, false);
    dv.setUint32(off + BPF_SOCK.state, sk.state, true);
    dv.setInt32(off + BPF_SOCK.rx_queue_mapping, -1, true);
  }

  fill_bpf_tcp_sock(): boolean {
    return false;
  }

  sk_fullsock(sk: BpfSockRef): BpfSockRef | null {
    return sk;
  }

  sk_cookie(sk: BpfSockRef): bigint {
    return isFake(sk) ? sk.cookie : 0n;
  }

  sk_by_cookie(cookie: bigint): BpfSockRef | null {
    const s = this.socks.find((x) => x.cookie === cookie);
    if (s === undefined) return null;
    this.outstanding++;
    return s;
  }

  sk_assign_skb(skb: BpfSkb, sk: BpfSockRef, flags: bigint): number {
    if (!isFake(sk) || flags !== 0n) return -EINVAL;
    this.skbAssigned.push(sk);
    if (this.skbAssignResult !== 0) return this.skbAssignResult;
    skb.sk = sk;
    return 0;
  }

  /** bpf_sk_lookup_assign's checks (sockets.md §2.5), enough for these programs. */
  sk_assign_lookup(ctx: BpfSkLookupKern, sk: BpfSockRef | null, flags: bigint): number {
    if ((flags & ~(BPF_SK_LOOKUP_F_REPLACE | BPF_SK_LOOKUP_F_NO_REUSEPORT)) !== 0n) return -EINVAL;
    if (sk !== null) {
      if (!isFake(sk)) return -EINVAL;
      if (sk.protocol === IPPROTO_TCP && sk.state !== BPF_TCP_LISTEN) return -ESOCKTNOSUPPORT;
      if (sk.protocol === IPPROTO_UDP && sk.state !== BPF_TCP_CLOSE) return -ESOCKTNOSUPPORT;
      if (sk.protocol !== ctx.protocol) return -EPROTOTYPE;
      if (sk.family !== ctx.family && (sk.family === AF_INET || sk.v6only === true)) return -EAFNOSUPPORT;
    }
    if (ctx.selected_sk !== null && (flags & BPF_SK_LOOKUP_F_REPLACE) === 0n) return -EEXIST;
    ctx.selected_sk = sk;
    ctx.no_reuseport = (flags & BPF_SK_LOOKUP_F_NO_REUSEPORT) !== 0n;
    return 0;
  }

  tcp_check_syncookie(): number {
    return -EINVAL;
  }

  tcp_gen_syncookie(): bigint {
    return BigInt(-EINVAL);
  }

  fib_lookup(): number {
    return -EINVAL;
  }

  skb_change_tail(): number {
    return -EINVAL;
  }

  skb_ensure_writable(): number {
    return 0;
  }
}

/** An skb as tc ingress sees it: data at the Ethernet header, NET_SKB_PAD of headroom. */
class FrameSkb implements BpfSkb {
  head: Uint8Array;
  view: DataView;
  data = 64;
  tail: number;
  end: number;
  len: number;
  mac_header = 64;
  network_header = 64 + 14;
  transport_header = -1;
  mac_len = 14;
  protocol: number;
  pkt_type = 0;
  mark = 0;
  priority = 0;
  queue_mapping = 0;
  hash = 0;
  tc_index = 0;
  tc_classid = 0;
  tstamp = 0;
  skb_iif = 1;
  meta_len = 0;
  readonly bpf_cb = new Uint8Array(20);
  readonly dev = { ifindex: 1 } as const;
  sk: BpfSockRef | null = null;

  constructor(frame: Uint8Array) {
    this.head = new Uint8Array(64 + frame.length + 64);
    this.head.set(frame, 64);
    this.view = new DataView(this.head.buffer);
    this.len = frame.length;
    this.tail = 64 + frame.length;
    this.end = this.head.length;
    this.protocol = ((frame[12] ?? 0) << 8) | (frame[13] ?? 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Each object: vxo's loader gives the documented type and maps; vxo's verifier accepts it

interface MapShape {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
}

const SHAPES: Record<keyof typeof OBJ, { program: string; section: string; type: number; license?: string; maps: Record<string, MapShape> }> = {
  dispatch: {
    program: 'dispatch', section: 'sk_lookup', type: BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP,
    maps: {
      bindings: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_LPM_TRIE, keySize: 23, valueSize: 8, maxEntries: 4096, flags: BPF_F_NO_PREALLOC },
      destinations: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP, keySize: 4, valueSize: 8, maxEntries: 1024 },
      metrics: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: M.NR },
      dest_metrics: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 24, maxEntries: 1024 },
    },
  },
  bench: {
    program: 'sk_lookup_bench', section: 'sk_lookup', type: BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP,
    maps: {
      bench_bindings: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_LPM_TRIE, keySize: 23, valueSize: 4, maxEntries: 200, flags: BPF_F_NO_PREALLOC },
      bench_counters: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: B.NR },
    },
  },
  firewall: {
    program: 'xdp_sk_firewall', section: 'xdp', type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP,
    maps: { fw_verdicts: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: FW.NR } },
  },
  tproxy: {
    program: 'tc_tproxy', section: 'tc', type: BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS,
    maps: {
      tproxy_services: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 4, maxEntries: 64 },
      tproxy_counters: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: T.NR },
    },
  },
  sfDrop: { program: 'sf_drop', section: 'socket', type: BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER, maps: {} },
  syncookie: {
    program: 'tcp_custom_syncookie', section: 'tc', type: BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS, license: 'GPL',
    maps: {
      // The MSS tables (two u16[4]), read-only (BPF_F_RDONLY_PROG).
      '.rodata': { type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 16, maxEntries: 1, flags: 128 },
      syncookie_keys: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 16, maxEntries: 2 },
      syncookie_stats: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: SC.NR },
    },
  },
  synProxy: {
    program: 'syn_proxy', section: 'tc', type: BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS, license: 'GPL',
    maps: {
      '.rodata': { type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 16, maxEntries: 1, flags: 128 },
      syncookie_keys: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 16, maxEntries: 2 },
      // (family, address, port) of the services it answers for; the README has the layout.
      proxy_services: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, keySize: 20, valueSize: 4, maxEntries: 64 },
      syn_proxy_stats: { type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 6 },
    },
  },
};

// DEPENDS ON: H3 for dispatch's SOCKMAP (creation).
for (const [name, shape] of Object.entries(SHAPES) as [keyof typeof OBJ, (typeof SHAPES)[keyof typeof OBJ]][]) {
  test(`${shape.program}.o loads with its documented program type and maps`, (t) => {
    const coll = loadObjectFile(OBJ[name]);
    const p = coll.program();
    t.deepEqual([p.name, p.section, p.type, p.license], [shape.program, shape.section, shape.type, shape.license ?? 'Dual MIT/GPL']);
    t.deepEqual([...coll.maps.keys()].sort(), Object.keys(shape.maps).sort());
    for (const [m, s] of Object.entries(shape.maps)) {
      const spec = coll.maps.get(m)?.spec;
      t.deepEqual(
        { type: spec?.type, keySize: spec?.keySize, valueSize: spec?.valueSize, maxEntries: spec?.maxEntries, flags: spec?.flags },
        { ...s, flags: s.flags ?? 0 },
        m,
      );
    }
  });

  // DEPENDS ON: dispatch, bench: H2 (SK_LOOKUP ctx, sockmap lookup → sock_or_null reference,
  // bpf_sk_assign/bpf_sk_release for SK_LOOKUP), H3 (SOCKMAP); tproxy: H1 (__sk_buff ctx), H2
  // (bpf_skc_lookup_tcp, bpf_sk_lookup_udp, bpf_sk_assign at tc); firewall, sf_drop: nothing new.
  test(`vxo's verifier accepts ${shape.program}`, (t) => {
    const p = loadObjectFile(OBJ[name]).program();
    try {
      const r = verifyProgram(p, { logLevel: 1 });
      t.true(r.stats.processed > 0);
    } catch (e) {
      if (!(e instanceof VerifierError)) throw e;
      t.fail(`refused (${e.code}) at insn ${e.pc}: ${e.message}\n${e.log.split('\n').slice(-8).join('\n')}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// xdp_sk_firewall

// DEPENDS ON: H2 (the lookup helpers asking BpfNetHost.sk_lookup from XDP).
test('xdp_sk_firewall: passes what a socket takes, drops the rest, releases every socket', (t) => {
  const socks = [
    sock('listener 8080', IPPROTO_TCP, BPF_TCP_LISTEN, 8080),
    sock('established 8081', IPPROTO_TCP, BPF_TCP_ESTABLISHED, 8081, { remotePort: 40000 }),
    sock('time-wait 8082', IPPROTO_TCP, BPF_TCP_TIME_WAIT, 8082, { remotePort: 40000 }),
    sock('udp 5353', IPPROTO_UDP, BPF_TCP_CLOSE, 5353),
    sock('udp4 only 5354', IPPROTO_UDP, BPF_TCP_CLOSE, 5354, { family: AF_INET }),
  ];
  const cases: [string, Uint8Array, number, number][] = [
    ['tcp4 SYN to the listener', tcp4Frame({ tcp: { dstPort: 8080, flags: TCP_SYN } }), XDP_PASS, FW.PASS_TCP_LISTENER],
    ['tcp6 SYN to the listener', tcp6Frame({ tcp: { dstPort: 8080, flags: TCP_SYN } }), XDP_PASS, FW.PASS_TCP_LISTENER],
    ['tcp4 ACK of the established connection', tcp4Frame({ tcp: { srcPort: 40000, dstPort: 8081, flags: TCP_ACK } }), XDP_PASS, FW.PASS_TCP_SOCKET],
    ['tcp4 SYN reopening a TIME_WAIT tuple', tcp4Frame({ tcp: { srcPort: 40000, dstPort: 8082, flags: TCP_SYN } }), XDP_PASS, FW.PASS_TCP_SOCKET],
    ['tcp4 ACK from another port to the established port', tcp4Frame({ tcp: { srcPort: 40001, dstPort: 8081, flags: TCP_ACK } }), XDP_DROP, FW.DROP_TCP],
    ['tcp4 SYN to a closed port', tcp4Frame({ tcp: { dstPort: 9999, flags: TCP_SYN } }), XDP_DROP, FW.DROP_TCP],
    ['udp4 to the bound socket', udp4Frame({ udp: { dstPort: 5353 } }), XDP_PASS, FW.PASS_UDP],
    ['udp6 to the bound socket', udp6Frame({ udp: { dstPort: 5353 } }), XDP_PASS, FW.PASS_UDP],
    ['udp6 to an IPv4-only socket', udp6Frame({ udp: { dstPort: 5354 } }), XDP_DROP, FW.DROP_UDP],
    ['udp4 to a closed port', udp4Frame({ udp: { dstPort: 9999 } }), XDP_DROP, FW.DROP_UDP],
    ['udp4 multicast', udp4Frame({ ip: { dst: '224.0.0.251' }, udp: { dstPort: 9999 } }), XDP_PASS, FW.PASS_MULTICAST],
    ['udp6 multicast', udp6Frame({ ip: { dst: 'ff02::fb' }, udp: { dstPort: 9999 } }), XDP_PASS, FW.PASS_MULTICAST],
    ['udp4 non-first fragment', udp4Frame({ ip: { fragOff: 0x0010 }, udp: { dstPort: 9999 } }), XDP_PASS, FW.PASS_FRAGMENT],
    ['icmp4', icmp4EchoFrame(), XDP_PASS, FW.PASS_OTHER],
    ['arp', arpFrame(), XDP_PASS, FW.PASS_NOT_IP],
    ['tcp6 behind a hop-by-hop header (not walked)', tcp6Frame({ ip: { extensions: [{ type: IPPROTO_HOPOPTS }] }, tcp: { dstPort: 9999, flags: TCP_SYN } }), XDP_PASS, FW.PASS_OTHER],
    ['udp4 in an 802.1Q tag', udp4Frame({ eth: { vlans: [{ vid: 7 }] }, udp: { dstPort: 5353 } }), XDP_PASS, FW.PASS_UDP],
    ['tcp4 cut inside its header', truncate(tcp4Frame({ tcp: { dstPort: 8080, flags: TCP_SYN } }), 44), XDP_DROP, FW.DROP_TRUNCATED],
  ];
  for (const engine of ENGINES) {
    const coll = loadObjectFile(OBJ.firewall);
    const host = new FakeHost(socks);
    const expected: Record<number, number> = {};
    for (const [name, frame, verdict, counter] of cases) {
      t.is(bpfProgTestRun(coll.program(), { dataIn: frame, engine, netHost: host }).retval, verdict, `${engine}: ${name}`);
      expected[counter] = (expected[counter] ?? 0) + 1;
    }
    t.deepEqual(words(coll, 'fw_verdicts'), counts(FW.NR, expected), `${engine}: fw_verdicts`);
    t.is(host.outstanding, 0, `${engine}: every socket released`);
    // TCP through bpf_skc_lookup_tcp, UDP through bpf_sk_lookup_udp, the packet's own tuple.
    t.deepEqual(new Set(host.lookups.map((l) => l.kind)), new Set([BPF_SK_LOOKUP_KIND.SKC_TCP, BPF_SK_LOOKUP_KIND.SK_UDP]));
    t.is(host.lookups[0]?.tuple, '0a000001' + '0a000002' + '9c40' + '1f90', `${engine}: the tcp4 tuple: saddr, daddr, sport, dport`);
  }
});

// ---------------------------------------------------------------------------------------------
// tc_tproxy

const SVC_TCP = 8080;
const SVC_UDP = 5353;
const PROXY = 15001;

function serviceKey(protocol: number, port: number): Uint8Array {
  const k = new Uint8Array(4);
  k[0] = protocol;
  new DataView(k.buffer).setUint16(2, port, false);
  return k;
}

function serviceValue(proxyPort: number): Uint8Array {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint16(0, proxyPort, false);
  return v;
}

function tproxyColl(t: ExecutionContext): Collection {
  const coll = loadObjectFile(OBJ.tproxy);
  update(t, coll, 'tproxy_services', serviceKey(IPPROTO_TCP, SVC_TCP), serviceValue(PROXY));
  update(t, coll, 'tproxy_services', serviceKey(IPPROTO_UDP, SVC_UDP), serviceValue(PROXY));
  return coll;
}

// DEPENDS ON: H1 (SkbProgramRunner, __sk_buff data/data_end), H2 (bpf_skc_lookup_tcp,
// bpf_sk_lookup_udp, bpf_sk_assign at tc through BpfNetHost.sk_assign_skb).
test('tc_tproxy: steers service traffic to the proxy, keeps its connections, leaves the rest', (t) => {
  const proxy = sock('proxy listener', IPPROTO_TCP, BPF_TCP_LISTEN, PROXY);
  const proxyUdp = sock('proxy udp', IPPROTO_UDP, BPF_TCP_CLOSE, PROXY);
  const accepted = sock('accepted by the proxy', IPPROTO_TCP, BPF_TCP_ESTABLISHED, SVC_TCP, { remotePort: 40000 });
  const other = sock('a real server on the service port', IPPROTO_TCP, BPF_TCP_LISTEN, SVC_TCP);
  for (const engine of ENGINES) {
    const coll = tproxyColl(t);
    const host = new FakeHost([proxy, proxyUdp, accepted, other]);
    const runner = new SkbProgramRunner(coll.program(), { engine, netHost: host });
    const go = (frame: Uint8Array): [number, string | undefined] => {
      const skb = new FrameSkb(frame);
      const v = runner.run(skb, true);
      return [v, isFake(skb.sk) ? skb.sk.name : undefined];
    };
    t.deepEqual(go(tcp4Frame({ tcp: { srcPort: 40001, dstPort: SVC_TCP, flags: TCP_SYN } })), [TC_ACT_OK, 'proxy listener'], `${engine}: a new connection, past the real server`);
    t.deepEqual(go(tcp6Frame({ tcp: { srcPort: 40001, dstPort: SVC_TCP, flags: TCP_SYN } })), [TC_ACT_OK, 'proxy listener'], `${engine}: over IPv6`);
    t.deepEqual(go(tcp4Frame({ tcp: { srcPort: 40000, dstPort: SVC_TCP, flags: TCP_ACK } })), [TC_ACT_OK, 'accepted by the proxy'], `${engine}: the proxy's connection`);
    t.deepEqual(go(udp4Frame({ udp: { dstPort: SVC_UDP } })), [TC_ACT_OK, 'proxy udp'], `${engine}: udp`);
    t.deepEqual(go(tcp4Frame({ tcp: { dstPort: 22, flags: TCP_SYN } })), [TC_ACT_OK, undefined], `${engine}: not a service`);
    t.deepEqual(go(icmp4EchoFrame()), [TC_ACT_OK, undefined], `${engine}: not TCP/UDP`);
    t.deepEqual(words(coll, 'tproxy_counters'), counts(T.NR, { [T.PROXY]: 3, [T.ESTABLISHED]: 1, [T.NOT_SERVICE]: 2 }), `${engine}: counters`);
    t.is(host.outstanding, 0, `${engine}: every socket released`);
    // The proxy lookup: every field zero but the destination port (Cilium's wildcard lookup).
    t.true(host.lookups.some((l) => l.tuple === '00000000' + '00000000' + '0000' + '3a99'), `${engine}: wildcard tuple for the proxy`);
  }
});

// DEPENDS ON: as above.
test('tc_tproxy: no proxy, or bpf_sk_assign refusing, drops and counts why', (t) => {
  const proxy = sock('proxy listener', IPPROTO_TCP, BPF_TCP_LISTEN, PROXY);
  for (const engine of ENGINES) {
    const coll = tproxyColl(t);
    const none = new FakeHost([]);
    const noProxy = new SkbProgramRunner(coll.program(), { engine, netHost: none });
    t.is(noProxy.run(new FrameSkb(tcp4Frame({ tcp: { dstPort: SVC_TCP, flags: TCP_SYN } })), true), TC_ACT_SHOT, `${engine}: no proxy`);
    t.is(noProxy.run(new FrameSkb(udp4Frame({ udp: { dstPort: SVC_UDP } })), true), TC_ACT_SHOT, `${engine}: no udp proxy`);

    const host = new FakeHost([proxy]);
    const runner = new SkbProgramRunner(coll.program(), { engine, netHost: host });
    host.skbAssignResult = -ENETUNREACH;
    t.is(runner.run(new FrameSkb(tcp4Frame({ tcp: { dstPort: SVC_TCP, flags: TCP_SYN } })), true), TC_ACT_SHOT, `${engine}: ENETUNREACH`);
    host.skbAssignResult = 0;
    // At egress bpf_sk_assign is refused before the host is asked (skb_at_tc_ingress).
    t.is(runner.run(new FrameSkb(tcp4Frame({ tcp: { dstPort: SVC_TCP, flags: TCP_SYN } })), false), TC_ACT_SHOT, `${engine}: egress`);
    t.deepEqual(words(coll, 'tproxy_counters'), counts(T.NR, { [T.NO_PROXY]: 2, [T.ERR_ENETUNREACH]: 1, [T.ERR_EOPNOTSUPP]: 1 }), `${engine}: counters`);
    t.is(host.outstanding + none.outstanding, 0, `${engine}: every socket released`);
  }
});

// ---------------------------------------------------------------------------------------------
// dispatch

const DISPATCH_BINDINGS: readonly [Uint8Array, number][] = [
  [bindKey(IPPROTO_TCP, 0, '127.0.0.0', 24), 5], // tcp 127.0.0.0/24, all ports
  [bindKey(IPPROTO_TCP, 80, '127.0.0.1', 32), 6], // tcp 127.0.0.1/32 port 80
  [bindKey(IPPROTO_TCP, 443, '127.0.0.0', 8), 7], // tcp 127.0.0.0/8 port 443: loses to the /24 all-ports
  [bindKey(IPPROTO_UDP, 53, '::', 0), 8], // udp, every address (v4-mapped ones too), port 53
];

function dispatchColl(t: ExecutionContext, sockets: Record<number, FakeSock>): Collection {
  const coll = loadObjectFile(OBJ.dispatch);
  for (const [k, id] of DISPATCH_BINDINGS) update(t, coll, 'bindings', k, binding(id, k));
  const dest = coll.maps.get('destinations');
  const sm = dest === undefined ? undefined : asSockMap(dest);
  if (sm === undefined) throw new Error('destinations is not a SOCKMAP');
  for (const [id, s] of Object.entries(sockets)) t.is(sm.updateCookie(u32le(Number(id)), 0, s.cookie, 0), 0);
  return coll;
}

// DEPENDS ON: H2 (SkLookupProgramRunner, SK_LOOKUP ctx, sockmap lookup through sk_by_cookie,
// bpf_sk_assign → BpfNetHost.sk_assign_lookup), H3 (SOCKMAP, LPM_TRIE).
test('dispatch: the most specific binding picks its socket; misses pass, errors drop', (t) => {
  const l5 = sock('all ports of 127.0.0.0/24', IPPROTO_TCP, BPF_TCP_LISTEN, 7005);
  const l6 = sock('127.0.0.1:80', IPPROTO_TCP, BPF_TCP_LISTEN, 7006);
  const l7 = sock('127/8:443', IPPROTO_TCP, BPF_TCP_LISTEN, 7007);
  const u8 = sock('udp 53', IPPROTO_UDP, BPF_TCP_CLOSE, 7053);
  for (const engine of ENGINES) {
    const coll = dispatchColl(t, { 5: l5, 6: l6, 7: l7, 8: u8 });
    const host = new FakeHost([l5, l6, l7, u8]);
    const runner = new SkLookupProgramRunner(coll.program(), { engine, netHost: host });
    const go = (ctx: BpfSkLookupKern): [number, string | undefined] => {
      const v = runner.run(ctx);
      return [v, isFake(ctx.selected_sk) ? ctx.selected_sk.name : undefined];
    };
    t.deepEqual(go(lookupKern(IPPROTO_TCP, '10.0.0.1', 40000, '127.0.0.1', 80)), [SK_PASS, '127.0.0.1:80'], `${engine}: /32 port beats /24 all ports`);
    t.deepEqual(go(lookupKern(IPPROTO_TCP, '10.0.0.1', 40000, '127.0.0.9', 80)), [SK_PASS, 'all ports of 127.0.0.0/24'], `${engine}: /24 all ports`);
    t.deepEqual(go(lookupKern(IPPROTO_TCP, '10.0.0.1', 40000, '127.0.0.1', 443)), [SK_PASS, 'all ports of 127.0.0.0/24'], `${engine}: a longer all-ports prefix beats a shorter port`);
    t.deepEqual(go(lookupKern(IPPROTO_TCP, '10.0.0.1', 40000, '127.1.0.1', 443)), [SK_PASS, '127/8:443'], `${engine}: /8 port 443`);
    t.deepEqual(go(lookupKern(IPPROTO_UDP, 'fd00::1', 40000, 'fd00::2', 53)), [SK_PASS, 'udp 53'], `${engine}: udp6`);
    t.deepEqual(go(lookupKern(IPPROTO_UDP, '10.0.0.1', 40000, '10.0.0.2', 53)), [SK_PASS, 'udp 53'], `${engine}: udp4 through ::/0`);
    t.deepEqual(go(lookupKern(IPPROTO_TCP, '10.0.0.1', 40000, '127.1.0.1', 80)), [SK_PASS, undefined], `${engine}: no binding`);
    t.deepEqual(go(lookupKern(IPPROTO_UDP, '10.0.0.1', 40000, '127.0.0.1', 80)), [SK_PASS, undefined], `${engine}: tcp bindings do not take udp`);
    t.deepEqual(words(coll, 'metrics'), counts(M.NR, { [M.LOOKUPS]: 8, [M.ASSIGNED]: 6, [M.NO_BINDING]: 2 }), `${engine}: metrics`);
    // dest_metrics[id] = {lookups, missing_socket, bad_socket}
    t.deepEqual(words(coll, 'dest_metrics').slice(5 * 3, 9 * 3), [2n, 0n, 0n, 1n, 0n, 0n, 1n, 0n, 0n, 2n, 0n, 0n], `${engine}: dest_metrics`);
    t.is(host.outstanding, 0, `${engine}: every sockmap reference released`);
  }
});

// DEPENDS ON: as above.
test('dispatch: a missing socket and each bpf_sk_assign refusal drop, counted by errno', (t) => {
  const udp = sock('udp socket', IPPROTO_UDP, BPF_TCP_CLOSE, 7005);
  const v6only = sock('v6-only listener', IPPROTO_TCP, BPF_TCP_LISTEN, 7005, { v6only: true });
  const established = sock('established', IPPROTO_TCP, BPF_TCP_ESTABLISHED, 7005, { remotePort: 1 });
  const earlier = sock('an earlier program\'s pick', IPPROTO_TCP, BPF_TCP_LISTEN, 7099);
  const listener = sock('listener', IPPROTO_TCP, BPF_TCP_LISTEN, 7005);
  for (const engine of ENGINES) {
    const cases: [string, FakeSock | undefined, FakeSock | null, number][] = [
      ['no socket for the destination', undefined, null, M.MISSING_SOCKET],
      ['udp socket for a tcp lookup', udp, null, M.ERR_EPROTOTYPE],
      ['v6-only socket for a v4 lookup', v6only, null, M.ERR_EAFNOSUPPORT],
      ['established socket', established, null, M.ERR_ESOCKTNOSUPPORT],
      ['a socket already selected', listener, earlier, M.ERR_EEXIST],
    ];
    for (const [name, s, preselected, counter] of cases) {
      const coll = dispatchColl(t, s === undefined ? {} : { 5: s });
      const host = new FakeHost(s === undefined ? [] : [s]);
      const runner = new SkLookupProgramRunner(coll.program(), { engine, netHost: host });
      const ctx = lookupKern(IPPROTO_TCP, '10.0.0.1', 40000, '127.0.0.9', 8080);
      ctx.selected_sk = preselected;
      t.is(runner.run(ctx), SK_DROP, `${engine}: ${name}`);
      t.is(ctx.selected_sk, preselected, `${engine}: ${name}: selection unchanged`);
      t.deepEqual(words(coll, 'metrics'), counts(M.NR, { [M.LOOKUPS]: 1, [counter]: 1 }), `${engine}: ${name}: metrics`);
      const dm = words(coll, 'dest_metrics').slice(5 * 3, 6 * 3);
      t.deepEqual(dm, counter === M.MISSING_SOCKET ? [1n, 1n, 0n] : [1n, 0n, 1n], `${engine}: ${name}: dest_metrics[5]`);
      t.is(host.outstanding, 0, `${engine}: ${name}: released`);
    }
  }
});

// DEPENDS ON: H2 (bpfProgTestRunSkLookup), H3 (SOCKMAP). With no host a sockmap lookup finds no
// socket, as the kernel's test run with an empty map.
test('dispatch under BPF_PROG_TEST_RUN: binding miss passes, empty destination drops', (t) => {
  for (const engine of ENGINES) {
    const coll = dispatchColl(t, {});
    const run = (ctx: Uint8Array): number => bpfProgTestRunSkLookup(coll.program(), { ctxIn: ctx, engine }).retval;
    t.is(run(skLookupCtx(IPPROTO_TCP, '10.0.0.1', 40000, '127.1.0.1', 80)), SK_PASS, engine);
    t.is(run(skLookupCtx(IPPROTO_TCP, '10.0.0.1', 40000, '127.0.0.1', 80)), SK_DROP, engine);
    t.deepEqual(words(coll, 'metrics'), counts(M.NR, { [M.LOOKUPS]: 2, [M.NO_BINDING]: 1, [M.MISSING_SOCKET]: 1 }), engine);
  }
});

// ---------------------------------------------------------------------------------------------
// sk_lookup_bench

// DEPENDS ON: H2 (SK_LOOKUP ctx access, bpfProgTestRunSkLookup).
test('sk_lookup_bench: 200 bindings, every lookup passes without a socket, hits and misses counted', (t) => {
  for (const engine of ENGINES) {
    const coll = loadObjectFile(OBJ.bench);
    for (let i = 0; i < 200; i++) update(t, coll, 'bench_bindings', bindKey(IPPROTO_TCP, 1000 + i, `10.${i}.0.0`, 16), u32le(i));
    // The trie is full: max_entries is the benchmark's 200.
    t.is(coll.maps.get('bench_bindings')?.update(bindKey(IPPROTO_TCP, 1, '192.0.2.0', 24), u32le(0)), -28, `${engine}: ENOSPC past 200`);
    const run = (ctx: Uint8Array): [number, bigint] => {
      const r = bpfProgTestRunSkLookup(coll.program(), { ctxIn: ctx, engine });
      return [r.retval, new DataView(r.ctxOut.buffer, r.ctxOut.byteOffset).getBigUint64(0, true)];
    };
    t.deepEqual(run(skLookupCtx(IPPROTO_TCP, '192.0.2.1', 40000, '10.7.1.2', 1007)), [SK_PASS, 0n], `${engine}: hit`);
    t.deepEqual(run(skLookupCtx(IPPROTO_TCP, '192.0.2.1', 40000, '10.199.255.255', 1199)), [SK_PASS, 0n], `${engine}: hit, last entry`);
    t.deepEqual(run(skLookupCtx(IPPROTO_TCP, '192.0.2.1', 40000, '10.7.1.2', 1008)), [SK_PASS, 0n], `${engine}: wrong port`);
    t.deepEqual(run(skLookupCtx(IPPROTO_UDP, '192.0.2.1', 40000, '10.7.1.2', 1007)), [SK_PASS, 0n], `${engine}: wrong protocol`);
    t.deepEqual(run(skLookupCtx(IPPROTO_TCP, 'fd00::1', 40000, 'fd00::2', 1007)), [SK_PASS, 0n], `${engine}: IPv6`);
    t.deepEqual(words(coll, 'bench_counters'), counts(B.NR, { [B.RUNS]: 5, [B.HITS]: 2, [B.MISSES]: 3 }), `${engine}: counters`);
  }
});

// ---------------------------------------------------------------------------------------------
// sf_drop

// DEPENDS ON: H1 (bpfProgTestRunSkb for SOCKET_FILTER).
test('sf_drop keeps 0 bytes of every packet', (t) => {
  for (const engine of ENGINES) {
    for (const frame of [udp4Frame({ udp: { dstPort: 5353 } }), tcp6Frame(), arpFrame()]) {
      t.is(bpfProgTestRunSkb(loadObjectFile(OBJ.sfDrop).program(), { dataIn: frame, engine }).retval, 0, engine);
    }
  }
});
