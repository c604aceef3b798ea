// LPM_TRIE as the dispatcher uses it (bindings to labels) next to a SOCKMAP, across workers: the
// maps are created here, opened in a worker thread from their shared state, looked up there by a
// program on both engines (the longest prefix wins, against a brute-force model), and changed
// there for this thread to see. Also trie_alloc's creation rules.
import test from 'ava';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { BPF_MAP_FLAG, BPF_MAP_TYPE as T, type MapSpec } from '../../bpf-vm/maps/map.ts';
import { BpfError } from '../../bpf-vm/errors.ts';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { XdpProgramRunner } from '../../bpf-vm/prog/xdp-runner.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import { spawnWorkerAt } from '../../scenarios/run/spawn.ts';
import { nextMessage } from '../workers/spawn.ts';
import { asmXdp } from '../support/vm.ts';
import { udp4Frame } from '../support/packets.ts';
import { rig } from '../net/tcp-harness.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { Socket } from '../../net/socket.ts';
import { AF_INET, SOCK_DGRAM } from '../../net/core/socket-constants.ts';
import { sock_gen_cookie } from '../../net/core/sock-diag.ts';
import { sock_map_update_elem_sys } from '../../net/core/sock-map.ts';
import { LPM_LOOKUP_DST, LPM_MISS, lpmKey4 } from './lpm-prog.ts';

const NO_PREALLOC = BPF_MAP_FLAG.BPF_F_NO_PREALLOC;

function ip4(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** 200 bindings: 10.i.0.0/16 for i < 190, then nested prefixes of 198.51.100.0/24 and a default. */
function bindings(): [number, string, number][] {
  const out: [number, string, number][] = [];
  for (let i = 0; i < 190; i++) out.push([16, `10.${i}.0.0`, i + 1]);
  out.push([24, '198.51.100.0', 500], [28, '198.51.100.0', 501], [30, '198.51.100.4', 502], [32, '198.51.100.5', 503]);
  out.push([8, '10.0.0.0', 600], [12, '10.16.0.0', 601], [20, '10.20.16.0', 602], [25, '10.20.16.128', 603]);
  out.push([1, '128.0.0.0', 700], [0, '0.0.0.0', 999]);
  return out;
}

function longestMatch(b: [number, string, number][], addr: string): number {
  let best = -1;
  let label = LPM_MISS;
  const a = ip4(addr);
  for (const [plen, p, l] of b) {
    const unit = 2 ** (32 - plen);
    if (plen > best && Math.floor(a / unit) === Math.floor(ip4(p) / unit)) {
      best = plen;
      label = l;
    }
  }
  return label;
}

const ADDRS = [
  '10.5.1.1', '10.189.255.255', '10.190.0.1', '10.16.3.4', '10.20.16.1', '10.20.16.129', '10.20.17.1', '198.51.100.1',
  '198.51.100.5', '198.51.100.6', '198.51.100.7', '198.51.100.99', '198.51.101.1', '192.0.2.1', '200.1.1.1', '127.0.0.1',
];

function lpmSpec(maxEntries: number, flags = NO_PREALLOC, keySize = 8, valueSize = 4): MapSpec {
  return { name: 'lpm', type: T.BPF_MAP_TYPE_LPM_TRIE, keySize, valueSize, maxEntries, flags };
}

function fill(): ReturnType<typeof createMap> {
  const lpm = createMap(lpmSpec(256));
  for (const [plen, p, l] of bindings()) {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, l, true);
    if (lpm.update(lpmKey4(plen, p), v, 0) !== 0) throw new Error(`insert ${p}/${plen}`);
  }
  return lpm;
}

test('LPM_TRIE creation: trie_alloc\'s rules (BPF_F_NO_PREALLOC required), all EINVAL', (t) => {
  const code = (s: MapSpec): string => {
    try {
      createMap(s);
      return 'ok';
    } catch (e) {
      return e instanceof BpfError ? e.code : 'throw';
    }
  };
  t.is(code(lpmSpec(16)), 'ok');
  t.is(code(lpmSpec(16, 0)), 'EINVAL');
  t.is(code(lpmSpec(0)), 'EINVAL');
  t.is(code(lpmSpec(16, NO_PREALLOC, 4)), 'EINVAL');
  t.is(code(lpmSpec(16, NO_PREALLOC, 5)), 'ok');
  t.is(code(lpmSpec(16, NO_PREALLOC, 260)), 'ok');
  t.is(code(lpmSpec(16, NO_PREALLOC, 261)), 'EINVAL');
  t.is(code(lpmSpec(16, NO_PREALLOC, 8, 0)), 'EINVAL');
  t.is(code(lpmSpec(16, NO_PREALLOC | BPF_MAP_FLAG.BPF_F_ZERO_SEED)), 'EINVAL');
});

for (const engine of ENGINES) {
  test(`${engine}: 200 bindings, the longest prefix wins for every address`, (t) => {
    const lpm = fill();
    const b = bindings();
    const r = new XdpProgramRunner(asmXdp(LPM_LOOKUP_DST, { lpm }), { engine });
    for (const dst of ADDRS) {
      const f = udp4Frame({ ip: { dst } });
      r.xdp.prepare(new Uint8Array(4096), 0, 4096, 256, f.length);
      r.xdp.buffer.set(f, 256);
      t.is(r.run(), longestMatch(b, dst), dst);
    }
  });
}

test('an LPM_TRIE and a SOCKMAP shared with a worker: its programs see this thread\'s entries, this thread sees its changes', async (t) => {
  const r = rig({ init: (net) => udp_init(net) });
  const socks = [0, 1].map((i) => {
    const s = Socket.create(r.a, AF_INET, SOCK_DGRAM) as Socket;
    s.bind({ family: AF_INET, addr: 0, port: 7000 + i });
    return s;
  });
  const sockmap = createMap({ name: 'sockmap', type: T.BPF_MAP_TYPE_SOCKMAP, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 });
  socks.forEach((s, i) => t.is(sock_map_update_elem_sys(sockmap, Uint8Array.of(i, 0, 0, 0), s.sk, 0), 0));
  const lpm = fill();
  const w = spawnWorkerAt(new URL('./lpm-worker.ts', import.meta.url), { lpm: lpm.share(), sockmap: sockmap.share(), addrs: ADDRS });
  try {
    const res = await nextMessage<{ labels: Record<string, number[]>; cookies: string[]; added: number; deleted: number }>(w);
    const want = ADDRS.map((a) => longestMatch(bindings(), a));
    for (const engine of ENGINES) t.deepEqual(res.labels[engine], want, engine);
    const cookieHex = (n: number): string => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
      return toHex(b);
    };
    t.deepEqual(res.cookies, [cookieHex(sock_gen_cookie(socks[0]!.sk)), cookieHex(sock_gen_cookie(socks[1]!.sk)), 'none']);
    t.is(res.added, 0);
    t.is(res.deleted, 0);
  } finally {
    await w.terminate();
  }
  t.is(toHex(lpm.lookup(lpmKey4(32, '198.51.100.7'))!), '4d000000');
  t.is(toHex(lpm.lookup(lpmKey4(32, '198.51.100.6'))!), 'f6010000', '198.51.100.4/30 still');
  t.is(sockmap.lookup(Uint8Array.of(1, 0, 0, 0)), undefined);
  // The socket the worker took out closes without touching what the slot holds now.
  t.is(sock_map_update_elem_sys(sockmap, Uint8Array.of(1, 0, 0, 0), socks[0]!.sk, 0), 0);
  socks[1]!.close();
  t.is(toHex(sockmap.lookup(Uint8Array.of(1, 0, 0, 0))!), cookieOf(socks[0]!));
  socks[0]!.close();
  t.deepEqual([0, 1].map((k) => sockmap.lookup(Uint8Array.of(k, 0, 0, 0))), [undefined, undefined]);
});

function cookieOf(s: Socket): string {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(sock_gen_cookie(s.sk)), true);
  return toHex(b);
}
