// The network scenarios' setup, the same on both machines (guest-setup.ts and host-setup.ts are
// the modules the workers load): inet_init on the machine's Net, its addresses on its device (the
// guest's eth0, the host's br0), permanent neighbours, the sysctls, and the application its role
// names. The application runs from the machine loop's poll(), as a process scheduled between
// softirqs; its counters have fixed names (APP_COUNTER_NAMES) so the runner reads them live.
import { parentPort } from 'node:worker_threads';
import type { Net } from '../../net/core/net-namespace.ts';
import type { NetDevice } from '../../net/core/netdevice.ts';
import { inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import { neigh_add_static } from '../../net/core/neighbour.ts';
import { nstat } from '../../net/core/snmp.ts';
import { AF_INET, AF_INET6, SOCK_STREAM, type InetFamily } from '../../net/core/socket-constants.ts';
import type { Sockaddr } from '../../net/core/msghdr.ts';
import { inet_addr_add } from '../../net/ipv4/devinet.ts';
import { ipv6_addr_add } from '../../net/ipv6/addrconf.ts';
import { inet_diag_dump, ss_format } from '../../net/ipv4/inet-diag.ts';
import { inet_init } from '../../net/stack.ts';
import { UdpSink } from '../../net/apps/discard.ts';
import { check, open_server_socket } from '../../net/apps/echo.ts';
import { DataEndpoint } from '../../net/apps/netserver.ts';
import { NetperfSender } from './netperf-sender.ts';
import { APP_COUNTER_NAMES, REPORT, type StackReport, type StackSetupData } from './setup-data.ts';
import { BpfAttachments } from './bpf-attach.ts';
import type { Sock } from '../../net/core/sock.ts';
import { fib_table_insert, ip_route_add, RT_SCOPE, RTN } from '../../net/ipv4/route.ts';

export interface MachineSetupContext {
  machine: 'guest' | 'host';
  net: Net;
  dev: NetDevice;
  data: unknown;
}

export interface MachineApp {
  poll(): number;
  counters(): Record<string, number>;
}

function mac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6) throw new Error(`bad MAC ${text}`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

function ok(r: number, what: string): void {
  if (r < 0) throw new Error(`stack setup: ${what}: errno ${-r}`);
}

/** The sockaddr of `addr` (text) at `port` in `family`. */
export function sockaddr(family: 4 | 6, addr: string, port: number): Sockaddr {
  return family === 6 ? { family: AF_INET6, addr: inet_pton6(addr), port } : { family: AF_INET, addr: inet_pton4(addr), port };
}

/** Applies a setup's addresses, neighbours and sysctls to a Net whose device is registered. */
export function configureMachine(net: Net, dev: NetDevice, d: StackSetupData): void {
  inet_init(net);
  ok(inet_addr_add(dev, inet_pton4(d.addr4), 24), `inet_addr_add ${d.addr4}`);
  ok(ipv6_addr_add(dev, inet_pton6(d.addr6), 64), `ipv6_addr_add ${d.addr6}`);
  for (const n of d.neigh) {
    const r = n.family === 6
      ? neigh_add_static(net, dev, AF_INET6, inet_pton6(n.addr), mac(n.mac))
      : neigh_add_static(net, dev, AF_INET, inet_pton4(n.addr), mac(n.mac));
    ok(r, `neigh add ${n.addr}`);
  }
  for (const p of d.routes?.local ?? []) {
    const [a, len] = prefix4(p);
    ok(fib_table_insert(net, { dst: a, prefixlen: len, type: RTN.RTN_LOCAL, scope: RT_SCOPE.RT_SCOPE_HOST, dev: net.loopback_dev ?? dev }), `ip route add local ${p}`);
  }
  for (const r of d.routes?.via ?? []) {
    const [a, len] = prefix4(r.prefix);
    ok(ip_route_add(net, a, len, dev, inet_pton4(r.gw)), `ip route add ${r.prefix} via ${r.gw}`);
  }
  const ipv4 = net.ipv4 as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(d.sysctls ?? {})) {
    const key = `sysctl_${k}`;
    if (typeof ipv4[key] !== 'number') throw new Error(`stack setup: no sysctl net.ipv4.${k}`);
    ipv4[key] = v;
  }
}

function prefix4(p: string): [number, number] {
  const [a, l] = p.split('/');
  const len = l === undefined ? 32 : Number(l);
  if (!Number.isInteger(len) || len < 0 || len > 32) throw new Error(`stack setup: bad prefix ${p}`);
  return [inet_pton4(a!), len];
}

export function setupMachine(ctx: MachineSetupContext): MachineApp {
  const d = ctx.data as StackSetupData;
  const net = ctx.net;
  configureMachine(net, ctx.dev, d);
  const family: InetFamily = d.family === 6 ? AF_INET6 : AF_INET;
  const c: Record<string, number> = {};
  for (const n of APP_COUNTER_NAMES) c[n] = 0;
  let poll: () => number = () => 0;
  let update: () => void = () => undefined;
  /** The application's socket: what a socket filter or the dispatcher attaches to. */
  let appSock: Sock | undefined;

  if (d.role === 'udp-sink') {
    const sink = new UdpSink(net, { family, port: d.port });
    appSock = sink.sock.sk;
    // The sink reads in its wake-up (UdpSink's own onready), as a reader always waiting on another
    // CPU would: the cover letter's socket dropped every datagram in a filter, so nothing queued.
    update = () => {
      c['app_rx_packets'] = sink.packets;
      c['app_rx_bytes'] = sink.bytes;
      c['app_rx_errors'] = sink.errors;
      c['app_rcvq'] = sink.sock.sk.sk_receive_queue.qlen;
    };
  } else if (d.role === 'syn-listener') {
    // One listener and no accept(), as in the sk_lookup benchmarks.
    const s = open_server_socket(net, { family, port: d.port }, SOCK_STREAM);
    check(s.listen(d.backlog ?? 1024), 'listen');
    appSock = s.sk;
    update = () => {
      c['app_rcvq'] = s.sk.sk_ack_backlog;
    };
  } else if (d.role === 'netserver') {
    const np = d.netperf!;
    const ep = new DataEndpoint(net, family, undefined, np.test, { port: d.port, request_size: np.size, response_size: np.responseSize });
    appSock = ep.sock.sk;
    update = () => {
      c['app_np_rx_messages'] = ep.messages;
      c['app_np_rx_bytes'] = ep.bytes;
      c['app_np_responses'] = ep.responses;
      c['app_np_rcvbuf'] = ep.sock.sk.sk_rcvbuf;
      c['app_rx_errors'] = ep.errors;
    };
  } else if (d.role === 'netperf') {
    const np = d.netperf!;
    const sender = new NetperfSender(net, { test: np.test, family, peer: sockaddr(d.family, np.peer, d.peerPort ?? d.port), size: np.size, responseSize: np.responseSize });
    poll = () => sender.poll();
    update = () => {
      c['app_np_sent'] = sender.sent;
      c['app_np_bytes_sent'] = sender.bytes_sent;
      c['app_np_send_errors'] = sender.send_errors;
      c['app_np_transactions'] = sender.transactions;
      c['app_np_connects'] = sender.connects;
      c['app_np_conn_errors'] = sender.conn_errors;
      c['app_np_connected'] = sender.connected ? 1 : 0;
      c['app_np_sndbuf'] = sender.sock.sk.sk_sndbuf;
      c['app_rx_errors'] = sender.error === 0 ? 0 : -sender.error;
    };
  }

  const bpf = d.bpf !== undefined && d.bpf.length > 0 ? new BpfAttachments(net, d.bpfEngine) : undefined;
  for (const spec of d.bpf ?? []) bpf!.attach(spec, ctx.dev, appSock);

  const report = d.report;
  const live = d.live;
  const mib = net.mib;
  const publish = (): void => {
    if (live === undefined) return;
    update();
    c['app_syncookies_sent'] = mib.net.SyncookiesSent;
    c['app_listen_drops'] = mib.net.ListenDrops;
    for (let i = 0; i < APP_COUNTER_NAMES.length; i++) live[i] = c[APP_COUNTER_NAMES[i]!]!;
  };
  return {
    poll(): number {
      if (report !== undefined && Atomics.load(report, 0) === REPORT.ASK) {
        const sockets = inet_diag_dump(net);
        const m: StackReport = {
          type: 'stack-report', machine: ctx.machine, nstat: nstat(mib), sockets, ss: ss_format(sockets), ...(bpf ? { bpf: bpf.report() } : {}),
        };
        parentPort?.postMessage(m);
        Atomics.store(report, 0, REPORT.POSTED);
      }
      const n = poll();
      publish();
      return n;
    },
    counters(): Record<string, number> {
      publish();
      update();
      c['app_syncookies_sent'] = mib.net.SyncookiesSent;
      c['app_listen_drops'] = mib.net.ListenDrops;
      // After the report, every counter by its nstat name (a run's final counters).
      if (report !== undefined && Atomics.load(report, 0) === REPORT.POSTED) {
        const out: Record<string, number> = { ...c };
        for (const [k, v] of Object.entries(nstat(mib))) out[`nstat_${k}`] = v;
        return out;
      }
      return c;
    },
  };
}
