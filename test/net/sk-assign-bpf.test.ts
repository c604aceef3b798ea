// Real BPF on the live stack, both engines: scenarios/sk's tc_tproxy.o (Cilium's transparent proxy
// pattern: bpf_skc_lookup_tcp, bpf_sk_lookup_udp, bpf_sk_assign, bpf_sk_release) at tc ingress of
// b's device, run by an SkbProgramRunner whose helpers reach net_bpf_host: connections and
// datagrams to the service port land on the proxy sockets of another port (prefetched sockets
// taken by skb_steal_sock in the receive paths), the proxy's accepted socket keeps the original
// port, and no socket reference is left behind.
import test, { type ExecutionContext } from 'ava';
import { fileURLToPath } from 'node:url';
import { ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import { loadObjectFile, type Collection } from '../../bpf-vm/prog/collection.ts';
import { SkbProgramRunner } from '../../bpf-vm/prog/skb-runner.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import type { SkBuff } from '../../net/core/skbuff.ts';
import { bpf_sock_refs_held } from '../../net/core/sock-refcnt.ts';
import { AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, SOCK_DGRAM, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { ANY6, MSG_DONTWAIT, sa4, sa6, sock, victim, type Victim } from './support/frames.ts';

const TPROXY = fileURLToPath(new URL('../../scenarios/sk/tc_tproxy.o', import.meta.url));
const T = { NOT_SERVICE: 0, ESTABLISHED: 1, PROXY: 2, NO_PROXY: 3, NR: 10 } as const;

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function service(t: ExecutionContext, coll: Collection, protocol: number, port: number, proxy: number): void {
  const k = new Uint8Array(4);
  k[0] = protocol;
  new DataView(k.buffer).setUint16(2, port, false);
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint16(0, proxy, false);
  t.is(coll.maps.get('tproxy_services')!.update(k, v), 0);
}

function counters(coll: Collection): bigint[] {
  const m = coll.maps.get('tproxy_counters')!;
  return Array.from({ length: T.NR }, (_, i) => new DataView(m.lookup(u32le(i))!.buffer).getBigUint64(0, true));
}

/** The program at b's tc ingress, as cls_bpf runs it in direct-action mode: the link header pushed back for the run. */
function attach(v: Victim, coll: Collection, engine: EngineName): void {
  const runner = new SkbProgramRunner(coll.program(), { engine, netHost: net_bpf_host(v.t.b) });
  v.t.devb.tc_ingress.push({
    run(skb: SkBuff): number {
      const mac_len = skb.mac_len;
      skb.data -= mac_len;
      skb.len += mac_len;
      const act = runner.run(skb, true) | 0;
      skb.data += mac_len;
      skb.len -= mac_len;
      return act;
    },
  });
}

for (const engine of ENGINES) {
  for (const family of [AF_INET, AF_INET6]) {
    const fam = family === AF_INET ? 'v4' : 'v6';
    test(`tc_tproxy.o (${engine}, ${fam}) on the live stack: service traffic lands on the proxy sockets`, (t) => {
      const v = victim();
      const coll = loadObjectFile(TPROXY);
      service(t, coll, IPPROTO_TCP, 80, 9999);
      service(t, coll, IPPROTO_UDP, 5000, 9999);
      const any = (port: number): ReturnType<typeof sa4> => (family === AF_INET ? sa4(0, port) : sa6(ANY6, port));
      const to = (port: number): ReturnType<typeof sa4> => (family === AF_INET ? sa4(v.t.b4, port) : sa6(v.t.b6, port));
      const proxy = sock(v.t.b, family, SOCK_STREAM);
      t.is(proxy.bind(any(9999)), 0);
      t.is(proxy.listen(8), 0);
      const uproxy = sock(v.t.b, family, SOCK_DGRAM);
      t.is(uproxy.bind(any(9999)), 0);
      attach(v, coll, engine);

      const c = sock(v.t.a, family, SOCK_STREAM);
      c.connect(to(80));
      v.t.advance(5);
      const srv = proxy.accept();
      if (typeof srv === 'number') return t.fail(`accept ${srv}`);
      t.is(srv.sk.skc_num, 80, 'the proxied connection keeps the service port');
      t.is((family === AF_INET ? v.l4 : v.l6).accept(), -11, 'the service\'s own listener saw nothing');
      t.is(c.send(new Uint8Array([1, 2, 3, 4])), 4);
      v.t.advance(5);
      t.is(srv.recv(new Uint8Array(8), MSG_DONTWAIT), 4, 'data flows on the proxied connection');

      const u = sock(v.t.a, family, SOCK_DGRAM);
      t.is(u.sendto(new Uint8Array([9]), to(5000)), 1);
      v.t.pump();
      t.is(uproxy.recv(new Uint8Array(4), MSG_DONTWAIT), 1, 'the datagram went to the UDP proxy');

      const n = counters(coll);
      t.is(n[T.PROXY], 2n, 'the SYN and the datagram to the proxies');
      t.true(n[T.ESTABLISHED]! >= 2n, 'the handshake ACK and the data to their own connection');
      t.is(n[T.NO_PROXY], 0n);
      t.is(bpf_sock_refs_held(v.t.b), 0, 'every lookup released, every prefetched socket let go');

      // Without a proxy listener the service's SYNs are dropped at tc.
      proxy.close();
      const c2 = sock(v.t.a, family, SOCK_STREAM);
      c2.connect(to(80));
      v.t.advance(5);
      t.true(counters(coll)[T.NO_PROXY]! >= 1n);
      t.is((family === AF_INET ? v.l4 : v.l6).accept(), -11);
      v.stop();
    });
  }
}
