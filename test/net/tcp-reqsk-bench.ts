// Connections per second through the custom-cookie path (the TypeScript hook of tcp-reqsk-hook.ts
// on b's tc ingress, bpf_sk_assign_tcp_reqsk, cookie_bpf_check) against the classic SYN cookie
// path (tcp_syncookies=2, no hook) and the plain SYN queue, in one process on two stacks joined
// by veth on a virtual clock. Each connection: connect, the handshake on the wire, accept, both
// ends closed. The hook stands in for the BPF program, so this measures the stack's side.
//
//   npx tsx test/net/tcp-reqsk-bench.ts [connections] [rounds]
import { twoHosts } from './support/topology.ts';
import { sa4, sock } from './support/frames.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import { AF_INET, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { CookieHook } from './tcp-reqsk-hook.ts';

type Mode = 'custom-cookie' | 'syncookies=2' | 'syn-queue';

function run(mode: Mode, n: number): number {
  const t = twoHosts({ staticNeigh: true, init: (net) => { udp_init(net); tcp_init(net); } });
  if (mode === 'custom-cookie') t.devb.tc_ingress.push(new CookieHook(t.devb));
  if (mode === 'syncookies=2') t.b.ipv4.sysctl_tcp_syncookies = 2;
  const l = sock(t.b, AF_INET, SOCK_STREAM);
  if (l.bind(sa4(0, 80)) !== 0 || l.listen(1024) !== 0) throw new Error('listen');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const c = sock(t.a, AF_INET, SOCK_STREAM);
    c.connect(sa4(t.b4, 80));
    t.pump();
    const s = l.accept();
    if (typeof s === 'number') throw new Error(`${mode}: accept ${s} at ${i}`);
    s.close();
    c.close();
    t.pump();
  }
  const dt = performance.now() - t0;
  if (mode === 'custom-cookie' && (t.b.mib.net.SyncookiesSent !== 0 || t.b.mib.tcp.PassiveOpens !== n)) throw new Error('not the custom path');
  if (mode === 'syncookies=2' && t.b.mib.net.SyncookiesRecv !== n) throw new Error('not the cookie path');
  return (n / dt) * 1000;
}

const n = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 5);
const modes: Mode[] = ['custom-cookie', 'syncookies=2', 'syn-queue'];
const best = new Map<Mode, number>();
for (let r = 0; r < rounds; r++) {
  for (const m of modes) best.set(m, Math.max(best.get(m) ?? 0, run(m, n)));
}
for (const m of modes) console.log(`${m.padEnd(14)} ${Math.round(best.get(m)!)} connections/s (best of ${rounds}, ${n} each)`);
