// scenarios/sk/tcp_custom_syncookie.o against the live kernel (6.9+: bpf_sk_assign_tcp_reqsk):
// - its verifier accepts the object (CO-RE against the kernel's BTF, the kfunc extern resolved),
//   and refuses it without CAP_PERFMON; vxo's accepts it too;
// - BPF_PROG_TEST_RUN on crafted SYNs (IPv4 and IPv6, with and without timestamps, SACK, window
//   scale, ECN) returns TC_ACT_REDIRECT with a SYN-ACK equal byte for byte to vxo's on both
//   engines, apart from the random upper 24 bits of the TSval, and to the SYN-ACK README.md
//   defines (the cookie recomputed here); frames the program leaves alone and a SYN with a bad
//   IPv4 checksum get the same verdicts, bytes and counters in both;
// - ACKs under test run, in a fresh netns with a listener (and in vxo with the same listener in a
//   stack of its own, same verdicts and counters): a valid cookie reaches the kfunc, which refuses
//   with EINVAL because a test run is not at tc ingress (sockets.md 5, check 2); a forged one is
//   dropped before it; the previous key still validates; no listener, no verdict;
// - scenarios/sk/syn_proxy.o, built from the same source for the SYN half (syncookie.h), answers
//   the same SYNs to a service in proxy_services with the same SYN-ACKs, in the kernel and in vxo;
// - real handshakes: two network namespaces joined by a veth pair, the program at the server's tc
//   ingress: IPv4 and IPv6 connections are made and carry data both ways, the kernel's own SYN
//   cookie counters stay at zero and the server's socket has the options the cookie encodes (all
//   of them with ECN, none of them, or an MSS capped by the listener's TCP_MAXSEG).
// On machines without a usable kernel each test logs why and passes.
import type { ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { bpfProgTestRunSkb } from '../../bpf-vm/prog/test-run-skb.ts';
import type { VerifyResult } from '../../bpf-vm/verifier/api.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import { AF_INET6, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { ANY6, sa6, sock } from '../net/support/frames.ts';
import { twoHosts } from '../net/support/topology.ts';
import { kernelTestRun, kernelVerify } from '../support/kernel.ts';
import { proxyServiceKey } from '../../scenarios/suite/syncookie-run.ts';
import { kernelTest } from '../support/kernel-test.ts';
import { parseIpv4, parseIpv6, tcp4Frame, tcp6Frame, TCP_ACK } from '../support/packets.ts';
import {
  OBJ, SC, SC_CLIENT4, SC_CLIENT6, SC_CPORT, SC_ISN, SC_MSSTAB4, SC_MSSTAB6, SC_SERVER4, SC_SERVER6, SC_SPORT, SC_SYNACK_WSCALE,
  SYNCOOKIE_SYNS, TC_ACT_OK, TC_ACT_REDIRECT, TC_ACT_SHOT, type SyncookieKey, be32Bytes, expectedSynAck, maskTsval, synAckTsval,
  synFrame, syncookieBadChecksumSyn, syncookieHash, syncookiePassFrames, syncookieIsn, syncookieKeyBytes, u32le,
} from '../support/sk-programs.ts';

const KEY: SyncookieKey = { k0: 0x0706050403020100n, k1: 0x0f0e0d0c0b0a0908n };
const OLD_KEY: SyncookieKey = { k0: 0x1111111111111111n, k1: 0x2222222222222222n };

function keyEntries(current: SyncookieKey, previous?: SyncookieKey): { key: string; value: string }[] {
  const e = [{ key: toHex(u32le(0)), value: toHex(syncookieKeyBytes(current)) }];
  if (previous) e.push({ key: toHex(u32le(1)), value: toHex(syncookieKeyBytes(previous)) });
  return e;
}

function statsOf(entries: readonly { key: string; value: string }[]): bigint[] {
  return entries.map((e) => Buffer.from(e.value, 'hex').readBigUInt64LE(0));
}

// vxo's verdict, computed once: each run loads the object afresh (fresh maps) with the same insns.
let verified: VerifyResult | undefined;

kernelTest('the kernel verifier accepts tcp_custom_syncookie.o, and so does vxo\'s', (t) => {
  const r = kernelVerify(OBJ.syncookie);
  t.true(r.accepted, r.log.slice(-3000));
  verified = verifyProgram(loadObjectFile(OBJ.syncookie).program('tcp_custom_syncookie'));
  t.log(`processed insns: kernel ${r.processed}, vxo ${verified.stats.processed}`);
  // README.md: it needs CAP_PERFMON, for offsets held in registers added to packet pointers.
  if (run('capsh', ['--version']).error) {
    t.log('capsh (libcap2-bin) is not installed: cannot load without CAP_PERFMON here');
    return;
  }
  const np = kernelVerify(OBJ.syncookie, { noPerfmon: true, quiet: true });
  t.false(np.accepted);
  t.regex(np.log, /pointer arithmetic with it prohibited for !root/);
});

for (const c of SYNCOOKIE_SYNS) {
  kernelTest(`SYN -> SYN-ACK, kernel and vxo: ${c.name}`, (t) => {
    const syn = synFrame(c);
    const k = kernelTestRun(OBJ.syncookie, { dataIn: syn, mapUpdates: { syncookie_keys: keyEntries(KEY) } });
    t.is(k.retval, TC_ACT_REDIRECT);
    const want = expectedSynAck(c, KEY, synAckTsval(k.dataOut));
    t.is(toHex(k.dataOut), toHex(want.frame), 'the kernel SYN-ACK is the README\'s');
    const kStats = statsOf(k.maps.syncookie_stats ?? []);
    t.is(kStats[SC.SYN], 1n);
    t.is(kStats[SC.SYNACK_SENT], 1n);

    for (const engine of ENGINES) {
      const col = loadObjectFile(OBJ.syncookie);
      col.maps.get('syncookie_keys')!.update(u32le(0), syncookieKeyBytes(KEY));
      verified ??= verifyProgram(col.program('tcp_custom_syncookie'));
      const v = bpfProgTestRunSkb(col.program('tcp_custom_syncookie'), { dataIn: syn, engine, verify: verified });
      t.is(v.retval, k.retval, engine);
      t.is(maskTsval(v.dataOut), maskTsval(k.dataOut), `${engine}: SYN-ACK equal to the kernel's (TSval's random bits masked)`);
      t.is(toHex(v.dataOut), toHex(expectedSynAck(c, KEY, synAckTsval(v.dataOut)).frame), `${engine}: the README's SYN-ACK, checksums included`);
      const stats = col.maps.get('syncookie_stats')!;
      t.is(Buffer.from(stats.lookup(u32le(SC.SYNACK_SENT))!).readBigUInt64LE(0), 1n, engine);
    }
  });
}

// syn_proxy.o's SYN half is tcp_custom_syncookie.o's, from one source (scenarios/sk/syncookie.h):
// for a service in proxy_services (keys as the syncookie suite writes them), every SYN above gets
// the backend's SYN-ACK, sent into the device's receive path instead of back out.
let proxyVerified: VerifyResult | undefined;
const P_SYN = 0, P_SYNACK_SENT = 1, P_SYN_DROPPED = 2;

kernelTest('syn_proxy.o answers every SYN with tcp_custom_syncookie.o\'s SYN-ACK (one source: syncookie.h), kernel and vxo', (t) => {
  const services = [
    { key: proxyServiceKey(4, SC_SERVER4, SC_SPORT), value: toHex(u32le(1)) },
    { key: proxyServiceKey(6, SC_SERVER6, SC_SPORT), value: toHex(u32le(1)) },
  ];
  for (const c of SYNCOOKIE_SYNS) {
    const syn = synFrame(c);
    const k = kernelTestRun(OBJ.synProxy, { dataIn: syn, mapUpdates: { syncookie_keys: keyEntries(KEY), proxy_services: services } });
    t.is(k.retval, TC_ACT_REDIRECT, c.name);
    t.is(toHex(k.dataOut), toHex(expectedSynAck(c, KEY, synAckTsval(k.dataOut)).frame), `${c.name}: the kernel's proxy SYN-ACK is the backend's`);
    const ks = statsOf(k.maps.syn_proxy_stats ?? []);
    t.deepEqual([ks[P_SYN], ks[P_SYNACK_SENT], ks[P_SYN_DROPPED]], [1n, 1n, 0n], c.name);
    for (const engine of ENGINES) {
      const col = loadObjectFile(OBJ.synProxy);
      col.maps.get('syncookie_keys')!.update(u32le(0), syncookieKeyBytes(KEY));
      for (const e of services) col.maps.get('proxy_services')!.update(Buffer.from(e.key, 'hex'), Buffer.from(e.value, 'hex'));
      proxyVerified ??= verifyProgram(col.program('syn_proxy'));
      const v = bpfProgTestRunSkb(col.program('syn_proxy'), { dataIn: syn, engine, verify: proxyVerified });
      t.is(v.retval, k.retval, `${engine}: ${c.name}`);
      t.is(maskTsval(v.dataOut), maskTsval(k.dataOut), `${engine}: ${c.name}: equal to the kernel's (TSval's random bits masked)`);
    }
  }
});

kernelTest('frames left to the stack, and a SYN with a bad IPv4 checksum, kernel and vxo', (t) => {
  const cases = [...syncookiePassFrames(), { name: 'SYN with a bad IPv4 checksum', frame: syncookieBadChecksumSyn() }];
  for (const { name, frame } of cases) {
    const k = kernelTestRun(OBJ.syncookie, { dataIn: frame });
    const ks = statsOf(k.maps.syncookie_stats ?? []);
    for (const engine of ENGINES) {
      const col = loadObjectFile(OBJ.syncookie);
      verified ??= verifyProgram(col.program('tcp_custom_syncookie'));
      const v = bpfProgTestRunSkb(col.program('tcp_custom_syncookie'), { dataIn: frame, engine, verify: verified });
      t.is(v.retval, k.retval, `${engine}: ${name}`);
      t.is(toHex(v.dataOut), toHex(k.dataOut), `${engine}: ${name}`);
      const m = col.maps.get('syncookie_stats')!;
      t.deepEqual(Array.from({ length: SC.NR }, (_, i) => Buffer.from(m.lookup(u32le(i))!).readBigUInt64LE(0)), ks, `${engine}: ${name}`);
    }
    t.is(k.retval, name.startsWith('SYN with a bad') ? TC_ACT_SHOT : TC_ACT_OK, name);
  }
});

// ---------------------------------------------------------------------------------------------
// ACKs under test run, in a fresh netns with a listener on SC_SPORT

function ackFrame(v6: boolean, cookie: number, opts: { tsval?: number; tsecr?: number; dport?: number; tsLast?: boolean } = {}): Uint8Array {
  const ts = opts.tsval === undefined ? [] : [8, 10, ...be32Bytes(opts.tsval), ...be32Bytes(opts.tsecr ?? 0)];
  // RFC 7323's layout (NOP, NOP, TS), or TS after other options, unaligned (SACK_PERM stands in for any option).
  const o = Uint8Array.from(ts.length === 0 ? [] : opts.tsLast ? [4, 2, ...ts] : [1, 1, ...ts]);
  const tcp = { srcPort: SC_CPORT, dstPort: opts.dport ?? SC_SPORT, seq: (SC_ISN + 1) >>> 0, ack: (cookie + 1) >>> 0, flags: TCP_ACK, window: 502, options: o };
  return v6
    ? tcp6Frame({ eth: {}, ip: { src: SC_CLIENT6, dst: SC_SERVER6 }, tcp })
    : tcp4Frame({ eth: {}, ip: { src: SC_CLIENT4, dst: SC_SERVER4 }, tcp });
}

function validCookie(v6: boolean, key: SyncookieKey, wscale = 7): { cookie: number; hash: number } {
  const hash = v6
    ? syncookieHash(parseIpv6(SC_CLIENT6), parseIpv6(SC_SERVER6), SC_CPORT, SC_SPORT, SC_ISN, key)
    : syncookieHash(parseIpv4(SC_CLIENT4), parseIpv4(SC_SERVER4), SC_CPORT, SC_SPORT, SC_ISN, key);
  return { hash, cookie: syncookieIsn(hash, { mssind: 3, ecn: false, sack: true, wscale }) };
}

interface Tool {
  status: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

function run(cmd: string, args: readonly string[]): Tool {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  const out: Tool = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (r.error) out.error = r.error;
  return out;
}

function must(cmd: string, args: readonly string[]): string {
  const r = run(cmd, args);
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || r.error?.message}`);
  return r.stdout;
}

/** The object loaded and pinned under a fresh directory of the BPF filesystem, removed by close(). */
class Pinned {
  readonly base = join('/sys/fs/bpf', `vxo-${process.pid}-sc-${randomBytes(4).toString('hex')}`);
  readonly prog = join(this.base, 'progs', 'tcp_custom_syncookie');
  constructor(keys: readonly { key: string; value: string }[]) {
    mkdirSync(this.base);
    try {
      must('bpftool', ['prog', 'loadall', OBJ.syncookie, join(this.base, 'progs'), 'pinmaps', join(this.base, 'maps')]);
      for (const e of keys) {
        must('bpftool', ['map', 'update', 'pinned', join(this.base, 'maps', 'syncookie_keys'), 'key', 'hex', ...pairs(e.key), 'value', 'hex', ...pairs(e.value)]);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }
  stats(): bigint[] {
    const j = JSON.parse(must('bpftool', ['map', 'dump', 'pinned', join(this.base, 'maps', 'syncookie_stats'), '-j'])) as { value: string[] }[];
    return j.map((e) => Buffer.from(e.value.map((h) => parseInt(h, 16))).readBigUInt64LE(0));
  }
  close(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}

function pairs(hex: string): string[] {
  return hex.match(/../g) ?? [];
}

// Listens (dual-stack) on the port, then runs bpftool over each input in the same netns.
const NETNS_RUN = `
import net from 'node:net';
import { spawnSync } from 'node:child_process';
const { port, prog, files } = JSON.parse(process.argv[2]);
const srv = net.createServer();
srv.listen({ port, host: '::' }, () => {
  const out = files.map((f) => {
    const r = spawnSync('bpftool', ['prog', 'run', 'pinned', prog, 'data_in', f], { encoding: 'utf8' });
    const m = /Return value: (\\d+)/.exec(r.stdout);
    return m ? Number(m[1]) : 'bpftool: ' + r.stderr;
  });
  process.stdout.write(JSON.stringify(out));
  srv.close();
});
`;

function runInNetns(p: Pinned, frames: readonly Uint8Array[]): (number | string)[] {
  const dir = mkdtempSync(join(tmpdir(), 'vxo-sc-'));
  try {
    const script = join(dir, 'run.mjs');
    writeFileSync(script, NETNS_RUN);
    const files = frames.map((f, i) => {
      const file = join(dir, `in-${i}.bin`);
      writeFileSync(file, f);
      return file;
    });
    const out = must('unshare', ['--net', '--', process.execPath, script, JSON.stringify({ port: SC_SPORT, prog: p.prog, files })]);
    return JSON.parse(out) as (number | string)[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The frames through vxo's test run with a dual-stack listener on SC_SPORT in a vxo stack (the lookups' host). */
function vxoAckRun(engine: EngineName, frames: readonly Uint8Array[]): { verdicts: number[]; stats: bigint[] } {
  const h = twoHosts({ init: (n) => { udp_init(n); tcp_init(n); } });
  const l = sock(h.b, AF_INET6, SOCK_STREAM);
  if (l.bind(sa6(ANY6, SC_SPORT)) !== 0 || l.listen(16) !== 0) throw new Error('listen');
  const col = loadObjectFile(OBJ.syncookie);
  const keys = col.maps.get('syncookie_keys')!;
  keys.update(u32le(0), syncookieKeyBytes(KEY));
  keys.update(u32le(1), syncookieKeyBytes(OLD_KEY));
  verified ??= verifyProgram(col.program('tcp_custom_syncookie'));
  const netHost = net_bpf_host(h.b);
  const verdicts = frames.map((dataIn) => bpfProgTestRunSkb(col.program('tcp_custom_syncookie'), { dataIn, engine, netHost, verify: verified }).retval);
  const m = col.maps.get('syncookie_stats')!;
  const stats = Array.from({ length: SC.NR }, (_, i) => Buffer.from(m.lookup(u32le(i))!).readBigUInt64LE(0));
  return { verdicts, stats };
}

for (const v6 of [false, true]) {
  kernelTest(`ACKs under test run (${v6 ? 'IPv6' : 'IPv4'}), kernel and vxo: valid reaches the kfunc (EINVAL: not at ingress), forged dropped`, (t) => {
    const p = new Pinned(keyEntries(KEY, OLD_KEY));
    try {
      const cur = validCookie(v6, KEY);
      const old = validCookie(v6, OLD_KEY);
      const frames = [
        ackFrame(v6, cur.cookie),
        ackFrame(v6, cur.cookie, { tsval: 1000, tsecr: 0xabcd00 | (cur.hash & 0xff) }),
        ackFrame(v6, old.cookie),
        ackFrame(v6, cur.cookie ^ 0x100),
        ackFrame(v6, cur.cookie, { tsval: 1000, tsecr: (cur.hash + 1) & 0xff }),
        ackFrame(v6, cur.cookie, { dport: SC_SPORT + 1 }),
        ackFrame(v6, cur.cookie, { tsval: 7, tsecr: 0x4200 | (cur.hash & 0xff), tsLast: true }),
        ackFrame(v6, cur.cookie, { tsval: 7, tsecr: (cur.hash + 3) & 0xff, tsLast: true }),
      ];
      const verdicts = runInNetns(p, frames);
      t.deepEqual(verdicts, [TC_ACT_SHOT, TC_ACT_SHOT, TC_ACT_SHOT, TC_ACT_SHOT, TC_ACT_SHOT, TC_ACT_OK, TC_ACT_SHOT, TC_ACT_SHOT]);
      const s = p.stats();
      // vxo, with the same listener in a stack of its own as the test run's host: the same verdicts and counters.
      for (const engine of ENGINES) {
        const vx = vxoAckRun(engine, frames);
        t.deepEqual(vx.verdicts, verdicts, engine);
        t.deepEqual(vx.stats, s, `${engine}: counters equal to the kernel's`);
      }
      t.is(s[SC.ACK], 7n);
      t.is(s[SC.ACK_VALID], 4n);
      t.is(s[SC.ACK_PREVIOUS_KEY], 1n);
      t.is(s[SC.ACK_INVALID], 3n, 'a wrong cookie, and a TSecr without the hash byte (aligned or not)');
      t.is(s[SC.KFUNC_EINVAL], 4n, 'BPF_PROG_TEST_RUN is not tc ingress: the kfunc says EINVAL');
      t.is(s[SC.ASSIGNED], 0n);
      t.is(s[SC.SYN], 0n);
    } finally {
      p.close();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// A real handshake through a veth pair

// The server reads each connection's TCP_INFO once its first data arrives (the connection is up
// on both sides then): the options the kernel runs it with. Python, for getsockopt(TCP_INFO).
const SERVER_PY = `
import json, socket, struct, sys
port, count, maxseg = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if maxseg:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, maxseg)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(('::', port))
s.listen(16)
print('ready', file=sys.stderr, flush=True)
out = []
for _ in range(count):
    c, _ = s.accept()
    d = c.recv(100)
    info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    out.append({'got': d.decode(), 'options': info[5], 'snd_wscale': info[6] & 15, 'rcv_wscale': info[6] >> 4,
                'snd_mss': struct.unpack_from('I', info, 16)[0]})
    c.sendall(b'pong ' + d)
    c.close()
print(json.dumps(out))
`;
const TCPI_OPT_TIMESTAMPS = 1, TCPI_OPT_SACK = 2, TCPI_OPT_WSCALE = 4, TCPI_OPT_ECN = 8;

const CLIENT_JS = `
import net from 'node:net';
const { targets, port } = JSON.parse(process.argv[2]);
const out = [];
function next(i) {
  if (i === targets.length) { process.stdout.write(JSON.stringify(out)); return; }
  const s = net.connect({ host: targets[i], port }, () => s.write('ping ' + i));
  let got = '';
  s.on('data', (d) => { got += d; });
  s.on('end', () => { out.push(got); s.end(); next(i + 1); });
  s.on('error', (e) => { out.push('error: ' + e.message); next(i + 1); });
  s.setTimeout(5000, () => { out.push('timeout'); s.destroy(); next(i + 1); });
}
next(0);
`;

function tcpExt(ns: string): Map<string, number> {
  const text = must('ip', ['netns', 'exec', ns, 'cat', '/proc/net/netstat']).split('\n');
  const m = new Map<string, number>();
  for (let i = 0; i + 1 < text.length; i += 2) {
    const names = text[i]!.split(/\s+/), values = text[i + 1]!.split(/\s+/);
    if (names[0] !== 'TcpExt:') continue;
    names.forEach((n, j) => m.set(n, Number(values[j])));
  }
  return m;
}

/** The client's options for a handshake, and whether the server's connection should have each. */
interface ClientOptions {
  /** sysctls set in the client's netns. */
  sysctls: readonly string[];
  ts: boolean;
  sack: boolean;
  wscale: boolean;
  ecn: boolean;
  /** TCP_MAXSEG on the listener: the program caps the cookie's MSS with it (tcp_sock.rx_opt.user_mss). */
  maxseg?: number;
}

async function handshake(t: ExecutionContext, o: ClientOptions): Promise<void> {
  const tag = randomBytes(3).toString('hex');
  const nsS = `vxo-sc-${tag}-s`, nsC = `vxo-sc-${tag}-c`;
  const devS = `sc${tag}s`, devC = `sc${tag}c`;
  const dir = mkdtempSync(join(tmpdir(), 'vxo-sc-hs-'));
  let p: Pinned | undefined;
  try {
    must('ip', ['netns', 'add', nsS]);
    must('ip', ['netns', 'add', nsC]);
    must('ip', ['link', 'add', devS, 'netns', nsS, 'type', 'veth', 'peer', 'name', devC, 'netns', nsC]);
    for (const [ns, dev, a4, a6] of [[nsS, devS, '10.77.0.1/24', 'fd77::1/64'], [nsC, devC, '10.77.0.2/24', 'fd77::2/64']] as const) {
      must('ip', ['-n', ns, 'addr', 'add', a4, 'dev', dev]);
      must('ip', ['-n', ns, 'addr', 'add', a6, 'dev', dev, 'nodad']);
      must('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    for (const s of o.sysctls) must('ip', ['netns', 'exec', nsC, 'sysctl', '-qw', s]);
    p = new Pinned(keyEntries(KEY));
    // nsenter rather than `ip netns exec`, which mounts a fresh /sys without the BPF filesystem.
    const inS = ['--net=/run/netns/' + nsS, '--'];
    must('nsenter', [...inS, 'tc', 'qdisc', 'add', 'dev', devS, 'clsact']);
    must('nsenter', [...inS, 'tc', 'filter', 'add', 'dev', devS, 'ingress', 'bpf', 'direct-action', 'object-pinned', p.prog]);

    const serverPy = join(dir, 'server.py'), clientJs = join(dir, 'client.mjs');
    writeFileSync(serverPy, SERVER_PY);
    writeFileSync(clientJs, CLIENT_JS);
    const targets = ['10.77.0.1', 'fd77::1'];
    const server = spawn('ip', ['netns', 'exec', nsS, 'python3', serverPy, String(SC_SPORT), String(targets.length), String(o.maxseg ?? 0)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let serverOut = '';
    server.stdout.on('data', (d: Buffer) => { serverOut += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      server.stderr.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
      server.on('exit', (code) => reject(new Error(`server exited early (${code})`)));
    });
    const client = run('ip', ['netns', 'exec', nsC, process.execPath, clientJs, JSON.stringify({ targets, port: SC_SPORT })]);
    const serverDone = new Promise<void>((resolve) => server.on('exit', () => resolve()));
    const timer = setTimeout(() => server.kill(), 10_000);
    await serverDone;
    clearTimeout(timer);
    t.deepEqual(JSON.parse(client.stdout || '[]'), ['pong ping 0', 'pong ping 1'], client.stderr);
    const seen = JSON.parse(serverOut || '[]') as { got: string; options: number; snd_wscale: number; rcv_wscale: number; snd_mss: number }[];
    t.deepEqual(seen.map((s) => s.got), ['ping 0', 'ping 1']);
    for (const s of seen) {
      t.log(`server socket: ${JSON.stringify(s)}`);
      // The options the cookie carried: timestamps, SACK, ECN, the client's shift and ours.
      const want = (o.ts ? TCPI_OPT_TIMESTAMPS : 0) | (o.sack ? TCPI_OPT_SACK : 0) | (o.wscale ? TCPI_OPT_WSCALE : 0) | (o.ecn ? TCPI_OPT_ECN : 0);
      t.is(s.options & 0xf, want);
      t.is(s.rcv_wscale, o.wscale ? SC_SYNACK_WSCALE : 0);
      t.true(o.wscale ? s.snd_wscale > 0 && s.snd_wscale <= 14 : s.snd_wscale === 0);
    }
    // The MSS from the cookie's table (1460 for IPv4, 1440 for IPv6), less the 12 bytes of timestamps.
    const tsLen = o.ts ? 12 : 0;
    const mss4 = Math.min(SC_MSSTAB4[3], o.maxseg ?? Infinity), mss6 = Math.min(SC_MSSTAB6[2], o.maxseg ?? Infinity);
    t.deepEqual(seen.map((s) => s.snd_mss), [mss4 - tsLen, mss6 - tsLen]);
    const stats = p.stats();
    t.is(stats[SC.SYN], 2n);
    t.is(stats[SC.SYNACK_SENT], 2n);
    t.is(stats[SC.ACK_VALID], 2n);
    t.is(stats[SC.ASSIGNED], 2n);
    t.is(stats[SC.ACK_INVALID], 0n);
    const ext = tcpExt(nsS);
    t.is(ext.get('SyncookiesSent'), 0, 'the kernel made no cookie: it never saw the SYNs');
    t.is(ext.get('SyncookiesRecv'), 0);
    t.is(ext.get('SyncookiesFailed'), 0);
    t.is(ext.get('ListenOverflows'), 0);
  } finally {
    p?.close();
    run('ip', ['netns', 'del', nsS]);
    run('ip', ['netns', 'del', nsC]);
    rmSync(dir, { recursive: true, force: true });
  }
}

kernelTest('a real handshake through the program at a veth\'s tc ingress (IPv4 and IPv6; timestamps, SACK, window scale, ECN)', async (t) => {
  // The client asks for ECN (an ECN-setup SYN), so the cookie's ECN bit is exercised too.
  await handshake(t, { sysctls: ['net.ipv4.tcp_ecn=1'], ts: true, sack: true, wscale: true, ecn: true });
});

kernelTest('a real handshake through the program to a listener with TCP_MAXSEG 1300 (read through the BTF pointer)', async (t) => {
  await handshake(t, { sysctls: [], ts: true, sack: true, wscale: true, ecn: false, maxseg: 1300 });
});

kernelTest('a real handshake through the program from a client with no TCP options but MSS (24-bit cookie, no timestamps)', async (t) => {
  await handshake(t, {
    sysctls: ['net.ipv4.tcp_timestamps=0', 'net.ipv4.tcp_sack=0', 'net.ipv4.tcp_window_scaling=0', 'net.ipv4.tcp_ecn=0'],
    ts: false, sack: false, wscale: false, ecn: false,
  });
});
