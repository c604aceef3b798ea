// SOCKMAP and SOCKHASH, vxo against the live kernel: the same script of map creations, socket
// inserts (real sockets on both sides: this machine's through sockmap-kernel.py, vxo's stacks
// here), lookups, deletes, get_next_key walks, closes and `bpftool map dump` must give the same
// answers: creation errnos, which socket states go in (EOPNOTSUPP), cookies read back, full maps
// (E2BIG), key orders, sockets leaving their maps when closed but not when reset. And the
// dispatcher's other map, an LPM_TRIE of 200 bindings: lookups, ENOSPC, the get_next_key walk.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { kernelTest } from '../support/kernel-test.ts';
import { connectPair, rig, tcpSocket, type Rig } from '../net/tcp-harness.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { Socket } from '../../net/socket.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM } from '../../net/core/socket-constants.ts';
import { SO, SOL_SOCKET } from '../../net/core/socket-options.ts';
import { sock_gen_cookie } from '../../net/core/sock-diag.ts';
import { sock_map_delete_elem_sys, sock_map_update_elem_sys } from '../../net/core/sock-map.ts';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { formatMapDump } from '../../bpf-vm/maps/dump.ts';
import { BPF_MAP_TYPE as T, type BpfMap } from '../../bpf-vm/maps/map.ts';
import { BpfError } from '../../bpf-vm/errors.ts';
import { errnoName } from '../../bpf-vm/errno.ts';
import { fromHex, toHex } from '../../bpf-vm/hex.ts';
import { ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import { encodeInsns } from '../../bpf-vm/isa/insn.ts';
import { XdpProgramRunner } from '../../bpf-vm/prog/xdp-runner.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import { asmXdp } from '../support/vm.ts';
import { udp4Frame } from '../support/packets.ts';

type SockKind = 'tcp' | 'tcp-bound' | 'tcp-listen' | 'tcp6-listen' | 'tcp-established' | 'tcp-close-wait' | 'udp' | 'udp6' | 'udp-bound' | 'udp-connected';

type Op =
  | { op: 'create'; map?: string; type: number; key: number; value: number; entries: number; flags?: number }
  | { op: 'socket'; name: string; kind: SockKind }
  | { op: 'close' | 'reset'; sock: string }
  | { op: 'update'; map?: string; key: string; sock: string; flags?: number }
  | { op: 'update-fd'; map?: string; key: string; fd: number; flags?: number }
  | { op: 'update-raw'; map?: string; key: string; value: string; flags?: number }
  | { op: 'delete' | 'lookup' | 'lookup-raw'; map?: string; key: string }
  | { op: 'getnext'; map?: string; key?: string }
  | { op: 'dump'; map?: string }
  /** An XDP program (vxo assembly, `map_by_fd(NAME)` for the maps listed) run once on `frame`: r0 as an int32. */
  | { op: 'prog'; src: string; maps: string[]; frame: string; insns?: string };

const SCRIPT = fileURLToPath(new URL('./sockmap-kernel.py', import.meta.url));

function withInsns(o: Op): Op {
  if (o.op !== 'prog') return o;
  const maps = Object.fromEntries(o.maps.map((n) => [n, createMap({ name: n, type: T.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0 })]));
  return { ...o, insns: toHex(encodeInsns(asmXdp(o.src, maps).insns)) };
}

function kernelRun(ops: Op[]): string[] | string {
  const r = spawnSync('python3', [SCRIPT], { input: JSON.stringify(ops.map(withInsns)), encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return `sockmap-kernel.py failed: ${r.stderr || r.error?.message}`;
  return JSON.parse(r.stdout) as string[];
}

/** The same script on vxo: sockets of host a of two stacks (peers on b). */
class Vxo {
  private readonly r: Rig = rig({ init: (net) => udp_init(net) });
  private readonly maps = new Map<string, BpfMap>();
  private readonly socks = new Map<string, Socket>();
  private port = 1000;

  constructor(private readonly engine: EngineName) {
    // Each machine counts cookies from 1; keep b's apart so that a cookie names one socket.
    for (let i = 0; i < 1000; i++) this.r.b.boot.next_sock_cookie();
  }

  private udp(family: number = AF_INET): Socket {
    const s = Socket.create(this.r.a, family, SOCK_DGRAM);
    if (typeof s === 'number') throw new Error(`socket: ${s}`);
    return s;
  }

  private socket(name: string, kind: SockKind): void {
    const r = this.r;
    const port = this.port++;
    switch (kind) {
      case 'tcp': this.socks.set(name, tcpSocket(r.a)); return;
      case 'tcp-bound': {
        const s = tcpSocket(r.a);
        s.bind({ family: AF_INET, addr: 0, port });
        this.socks.set(name, s);
        return;
      }
      case 'tcp-listen':
      case 'tcp6-listen': {
        const v6 = kind === 'tcp6-listen';
        const s = tcpSocket(r.a, v6 ? AF_INET6 : AF_INET);
        s.bind(v6 ? { family: AF_INET6, addr: { w0: 0, w1: 0, w2: 0, w3: 0 }, port } : { family: AF_INET, addr: 0, port });
        s.listen(8);
        this.socks.set(name, s);
        return;
      }
      case 'tcp-established':
      case 'tcp-close-wait': {
        const { lst, cli, srv } = connectPair(r, port);
        this.socks.set(name, srv);
        this.socks.set(`${name}.lst`, lst);
        if (kind === 'tcp-close-wait') {
          cli.close();
          r.pump();
        } else {
          this.socks.set(`${name}.cli`, cli);
        }
        return;
      }
      case 'udp': this.socks.set(name, this.udp()); return;
      case 'udp6': this.socks.set(name, this.udp(AF_INET6)); return;
      case 'udp-bound': {
        const s = this.udp();
        s.bind({ family: AF_INET, addr: 0, port });
        this.socks.set(name, s);
        return;
      }
      case 'udp-connected': {
        const s = this.udp();
        s.connect({ family: AF_INET, addr: r.b4, port: 53 });
        this.socks.set(name, s);
      }
    }
  }

  step(o: Op): string {
    const res = (e: number): string => (e === 0 ? 'ok' : errnoName(e));
    switch (o.op) {
      case 'create':
        try {
          this.maps.set(o.map ?? 'm', createMap({ name: 'vxo_sm', type: o.type, keySize: o.key, valueSize: o.value, maxEntries: o.entries, flags: o.flags ?? 0 }));
          return 'ok';
        } catch (e) {
          if (e instanceof BpfError) return e.code;
          throw e;
        }
      case 'socket':
        this.socket(o.name, o.kind);
        return 'ok';
      case 'prog': {
        const maps = Object.fromEntries(o.maps.map((n) => [n, this.maps.get(n)!]));
        const frame = fromHex(o.frame);
        const r = new XdpProgramRunner(asmXdp(o.src, maps), { engine: this.engine, netHost: net_bpf_host(this.r.a) });
        r.xdp.prepare(new Uint8Array(4096), 0, 4096, 256, frame.length);
        r.xdp.buffer.set(frame, 256);
        return String(r.run() | 0);
      }
      case 'close':
        this.socks.get(o.sock)!.close();
        this.socks.delete(o.sock);
        this.r.pump();
        return 'ok';
      case 'reset': {
        const s = this.socks.get(o.sock)!;
        const linger0 = new Uint8Array(8);
        new DataView(linger0.buffer).setInt32(0, 1, true);
        s.setsockopt(SOL_SOCKET, SO.SO_LINGER, linger0);
        s.close();
        this.socks.delete(o.sock);
        this.r.pump();
        return 'ok';
      }
      default:
    }
    const m = this.maps.get(o.map ?? 'm')!;
    switch (o.op) {
      case 'update': return res(sock_map_update_elem_sys(m, fromHex(o.key), this.socks.get(o.sock)?.sk ?? null, o.flags ?? 0));
      case 'update-fd': {
        const v = new Uint8Array(8);
        new DataView(v.buffer).setBigUint64(0, BigInt(o.fd), true);
        return res(m.update(fromHex(o.key), v.subarray(0, m.spec.valueSize), o.flags ?? 0));
      }
      case 'update-raw': return res(m.update(fromHex(o.key), fromHex(o.value), o.flags ?? 0));
      case 'lookup-raw': {
        const v = m.lookup(fromHex(o.key));
        return v === undefined ? 'ENOENT' : toHex(v);
      }
      case 'delete': return res(sock_map_delete_elem_sys(m, fromHex(o.key)));
      case 'lookup': {
        const v = m.lookup(fromHex(o.key));
        if (v === undefined) {
          return m.spec.valueSize !== 8 ? 'ENOSPC' : 'ENOENT';
        }
        const c = Number(new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true));
        for (const [name, s] of this.socks) if (sock_gen_cookie(s.sk) === c) return `cookie ${name}`;
        return 'cookie ?';
      }
      case 'getnext': {
        const k = m.getNextKey(o.key === undefined ? undefined : fromHex(o.key));
        return k === undefined ? 'ENOENT' : `next ${toHex(k)}`;
      }
      case 'dump': {
        let text = formatMapDump(m);
        for (const [name, s] of this.socks) {
          const b = new Uint8Array(8);
          new DataView(b.buffer).setBigUint64(0, BigInt(sock_gen_cookie(s.sk)), true);
          text = text.replaceAll(Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' '), `<cookie ${name}>`);
        }
        return text;
      }
    }
  }
}

function compare(t: ExecutionContext, ops: Op[]): void {
  const py = spawnSync('python3', ['-c', 'import ctypes'], { encoding: 'utf8' });
  if (py.error !== undefined || py.status !== 0) {
    t.log(`kernel reference unavailable: python3 with ctypes is needed to hold sockets (${py.error?.message ?? py.stderr.trim()})`);
    t.pass();
    return;
  }
  const k = kernelRun(ops);
  if (typeof k === 'string') {
    t.log(k);
    t.fail(k);
    return;
  }
  // The whole script once per engine, each on its own stacks and maps.
  for (const engine of ENGINES) {
    const v = new Vxo(engine);
    ops.forEach((o, i) => t.is(v.step(o), k[i] ?? 'no answer', `${engine} step ${i}: ${JSON.stringify(o)}`));
  }
}

const M = T.BPF_MAP_TYPE_SOCKMAP;
const H = T.BPF_MAP_TYPE_SOCKHASH;
const u32 = (n: number): string => toHex(new Uint8Array(new Uint32Array([n]).buffer));

kernelTest('socket maps: creation errnos as sock_map_alloc / sock_hash_alloc', (t) => {
  const c = (type: number, key: number, value: number, entries: number, flags = 0): Op => ({ op: 'create', type, key, value, entries, flags });
  compare(t, [
    c(M, 4, 8, 4), c(M, 4, 4, 4), c(M, 4, 8, 0), c(M, 8, 8, 4), c(M, 4, 2, 4), c(M, 4, 16, 4),
    c(M, 4, 8, 4, 1), c(M, 4, 8, 4, 1 << 7), c(M, 4, 8, 4, 1 << 3), c(M, 4, 8, 4, 1 << 4), c(M, 4, 8, 4, (1 << 3) | (1 << 4)),
    c(H, 4, 8, 4), c(H, 1, 4, 4), c(H, 13, 8, 4), c(H, 512, 8, 4), c(H, 513, 8, 4), c(H, 0, 8, 4), c(H, 4, 8, 0),
    c(H, 4, 12, 4), c(H, 4, 8, 4, 1 << 6), c(H, 4, 8, 4, 1), c(H, 4, 8, 2 ** 27 + 1),
  ]);
});

kernelTest('SOCKMAP: which sockets go in, cookies read back, errnos, get_next_key and bpftool dump as the kernel', (t) => {
  compare(t, [
    { op: 'create', type: M, key: 4, value: 8, entries: 4 },
    { op: 'socket', name: 'lst', kind: 'tcp-listen' },
    { op: 'socket', name: 'est', kind: 'tcp-established' },
    { op: 'socket', name: 'fresh', kind: 'tcp' },
    { op: 'socket', name: 'bound', kind: 'tcp-bound' },
    { op: 'socket', name: 'cw', kind: 'tcp-close-wait' },
    { op: 'socket', name: 'u', kind: 'udp' },
    { op: 'socket', name: 'ub', kind: 'udp-bound' },
    { op: 'socket', name: 'uc', kind: 'udp-connected' },
    { op: 'socket', name: 'l6', kind: 'tcp6-listen' },
    { op: 'getnext' },
    { op: 'lookup', key: u32(0) },
    { op: 'update', key: u32(0), sock: 'fresh' },
    { op: 'update', key: u32(0), sock: 'fresh', flags: 3 },
    { op: 'update', key: u32(0), sock: 'fresh', flags: 4 },
    { op: 'update-fd', key: u32(0), fd: 999, flags: 4 },
    { op: 'update', key: u32(0), sock: 'bound' },
    { op: 'update', key: u32(0), sock: 'cw' },
    { op: 'update', key: u32(9), sock: 'fresh' },
    { op: 'update', key: u32(9), sock: 'lst' },
    { op: 'update', key: u32(0), sock: 'lst', flags: 3 },
    { op: 'update', key: u32(0), sock: 'lst', flags: 2 },
    { op: 'update', key: u32(0), sock: 'lst', flags: 1 },
    { op: 'update', key: u32(0), sock: 'est', flags: 1 },
    { op: 'update', key: u32(1), sock: 'est' },
    { op: 'update', key: u32(1), sock: 'est.cli', flags: 2 },
    { op: 'update', key: u32(2), sock: 'u' },
    { op: 'update', key: u32(3), sock: 'ub' },
    { op: 'update', key: u32(3), sock: 'uc' },
    { op: 'update', key: u32(3), sock: 'l6' },
    { op: 'update-fd', key: u32(2), fd: 999 },
    { op: 'update-fd', key: u32(2), fd: 0x80000000 },
    { op: 'lookup', key: u32(0) },
    { op: 'lookup', key: u32(1) },
    { op: 'lookup', key: u32(2) },
    { op: 'lookup', key: u32(3) },
    { op: 'lookup', key: u32(4) },
    { op: 'dump' },
    { op: 'getnext', key: u32(0) },
    { op: 'getnext', key: u32(3) },
    { op: 'getnext', key: u32(7) },
    { op: 'delete', key: u32(2) },
    { op: 'delete', key: u32(2) },
    { op: 'delete', key: u32(8) },
    { op: 'close', sock: 'l6' },
    { op: 'lookup', key: u32(3) },
    { op: 'reset', sock: 'est.cli' },
    { op: 'lookup', key: u32(1) },
    { op: 'close', sock: 'est' },
    { op: 'lookup', key: u32(1) },
    { op: 'close', sock: 'lst' },
    { op: 'dump' },
  ]);
});

kernelTest('SOCKHASH: E2BIG when full, ENOENT deletes, the kernel\'s get_next_key order, 4-byte values read as ENOSPC', (t) => {
  const ops: Op[] = [
    { op: 'create', type: H, key: 4, value: 8, entries: 8 },
    { op: 'create', map: 'h13', type: H, key: 13, value: 8, entries: 16 },
    { op: 'create', map: 'h4', type: H, key: 4, value: 4, entries: 2 },
  ];
  for (let i = 0; i < 9; i++) ops.push({ op: 'socket', name: `u${i}`, kind: 'udp-bound' });
  ops.push({ op: 'socket', name: 'unbound', kind: 'udp' }, { op: 'socket', name: 'unbound6', kind: 'udp6' });
  ops.push({ op: 'update', key: u32(1), sock: 'unbound' }, { op: 'update', key: u32(1), sock: 'unbound6' });
  for (let i = 0; i < 9; i++) ops.push({ op: 'update', key: u32(i * 0x01010101 + 7), sock: `u${i}` });
  ops.push({ op: 'update', key: u32(7), sock: 'u8' }, { op: 'update', key: u32(7), sock: 'u8', flags: 1 }, { op: 'lookup', key: u32(7) });
  const key13 = (i: number): string => toHex(Uint8Array.from({ length: 13 }, (_, j) => (i * 37 + j * 11 + 1) & 0xff));
  for (let i = 0; i < 9; i++) ops.push({ op: 'update', map: 'h13', key: key13(i), sock: `u${i}` });
  // The walks, whole: bpftool's dump is get_next_key from no key to ENOENT.
  ops.push({ op: 'getnext' }, { op: 'getnext', map: 'h13' }, { op: 'dump' }, { op: 'dump', map: 'h13' });
  ops.push(
    { op: 'delete', key: u32(1) },
    { op: 'delete', key: u32(7) },
    { op: 'delete', key: u32(7) },
    { op: 'update', map: 'h4', key: u32(1), sock: 'u1' },
    { op: 'update', map: 'h4', key: u32(2), sock: 'u2' },
    { op: 'update', map: 'h4', key: u32(3), sock: 'u3' },
    { op: 'lookup', map: 'h4', key: u32(1) },
    { op: 'lookup', map: 'h4', key: u32(9) },
    { op: 'dump', map: 'h4' },
    { op: 'close', sock: 'u1' },
    { op: 'getnext', map: 'h4' },
    { op: 'getnext', map: 'h4', key: u32(2) },
    { op: 'dump' },
  );
  compare(t, ops);
});

const lk = (plen: number, a: string): string => toHex(Uint8Array.from([plen, 0, 0, 0, ...a.split('.').map(Number)]));

kernelTest('LPM_TRIE of 200 bindings as the dispatcher uses it: longest match, ENOSPC when full, get_next_key and dump as the kernel', (t) => {
  const ops: Op[] = [
    { op: 'create', type: T.BPF_MAP_TYPE_LPM_TRIE, key: 8, value: 4, entries: 200, flags: 0 },
    { op: 'create', type: T.BPF_MAP_TYPE_LPM_TRIE, key: 8, value: 4, entries: 200, flags: 1 },
  ];
  const binds: [number, string][] = [];
  for (let i = 0; i < 190; i++) binds.push([16 + (i % 9), `10.${i}.${(i * 7) & 0xff}.0`]);
  binds.push([24, '198.51.100.0'], [28, '198.51.100.0'], [30, '198.51.100.4'], [32, '198.51.100.5'], [8, '10.0.0.0'],
    [12, '10.16.0.0'], [20, '10.20.16.0'], [25, '10.20.16.128'], [1, '128.0.0.0'], [0, '0.0.0.0']);
  binds.forEach(([plen, a], i) => ops.push({ op: 'update-raw', key: lk(plen, a), value: u32(i + 1) }));
  ops.push({ op: 'update-raw', key: lk(32, '192.0.2.1'), value: u32(1) });
  for (const a of ['10.5.1.1', '10.20.16.200', '10.20.17.1', '198.51.100.5', '198.51.100.6', '198.51.100.9', '192.0.2.1', '200.0.0.1', '127.0.0.1']) {
    ops.push({ op: 'lookup-raw', key: lk(32, a) });
  }
  ops.push({ op: 'lookup-raw', key: lk(33, '10.5.1.1') }, { op: 'lookup-raw', key: lk(20, '10.20.16.200') });
  ops.push({ op: 'delete', key: lk(24, '198.51.100.0') }, { op: 'delete', key: lk(24, '198.51.100.0') }, { op: 'lookup-raw', key: lk(32, '198.51.100.77') });
  ops.push({ op: 'getnext' }, { op: 'getnext', key: lk(28, '198.51.100.0') }, { op: 'getnext', key: lk(0, '0.0.0.0') }, { op: 'getnext', key: lk(31, '1.2.3.4') });
  ops.push({ op: 'dump' });
  compare(t, ops);
});

/** Looks `key` up in sm: bpf_sock's type << 8 | protocol (the ports differ between machines), or 99999. */
const LOOKUP = (key: number): string => [
  `stw [%r10-4], ${key}`, 'mov %r2, %r10', 'add %r2, -4', 'lddw %r1, map_by_fd(sm)', 'call 1',
  'jeq %r0, 0, miss', 'ldxw %r6, [%r0+8]', 'lsh %r6, 8', 'ldxw %r7, [%r0+12]', 'or %r6, %r7',
  'mov %r1, %r0', 'call 86', 'mov %r0, %r6', 'exit',
  'miss:', 'mov %r0, 99999', 'exit',
].join('\n');

/** Looks `key` up in sm and puts the socket into sh at `dst`: the update's result, or 99999. */
const COPY = (key: number, dst: number): string => [
  `stw [%r10-4], ${key}`, 'mov %r2, %r10', 'add %r2, -4', 'lddw %r1, map_by_fd(sm)', 'call 1',
  'jeq %r0, 0, miss', 'mov %r6, %r0', `stw [%r10-8], ${dst}`, 'mov %r2, %r10', 'add %r2, -8', 'mov %r3, %r6', 'mov %r4, 0',
  'lddw %r1, map_by_fd(sh)', 'call 2', 'mov %r7, %r0', 'mov %r1, %r6', 'call 86', 'mov %r0, %r7', 'exit',
  'miss:', 'mov %r0, 99999', 'exit',
].join('\n');

/** Deletes `key` from sm: the helper's result. */
const DELETE = (key: number): string => [
  `stw [%r10-4], ${key}`, 'mov %r2, %r10', 'add %r2, -4', 'lddw %r1, map_by_fd(sm)', 'call 3', 'exit',
].join('\n');

kernelTest('socket maps from an XDP program (BPF_PROG_TEST_RUN): lookups give the socket, updates take one, deletes, as the kernel', (t) => {
  const frame = toHex(udp4Frame({ payload: new Uint8Array(8) }));
  const prog = (src: string, maps = ['sm']): Op => ({ op: 'prog', src, maps, frame });
  compare(t, [
    { op: 'create', map: 'sm', type: M, key: 4, value: 8, entries: 4 },
    { op: 'create', map: 'sh', type: H, key: 4, value: 8, entries: 1 },
    { op: 'socket', name: 'lst', kind: 'tcp-listen' },
    { op: 'socket', name: 'ub', kind: 'udp-bound' },
    { op: 'update', map: 'sm', key: u32(0), sock: 'lst' },
    { op: 'update', map: 'sm', key: u32(1), sock: 'ub' },
    prog(LOOKUP(0)), prog(LOOKUP(1)), prog(LOOKUP(2)), prog(LOOKUP(9)),
    prog(COPY(0, 5), ['sm', 'sh']), { op: 'lookup', map: 'sh', key: u32(5) },
    prog(COPY(1, 6), ['sm', 'sh']), prog(COPY(1, 5), ['sm', 'sh']), { op: 'lookup', map: 'sh', key: u32(5) },
    prog(COPY(3, 5), ['sm', 'sh']),
    prog(DELETE(3)), prog(DELETE(9)), prog(DELETE(1)), { op: 'lookup', map: 'sm', key: u32(1) },
  ]);
});
