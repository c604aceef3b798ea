// The sk-lookup suite's dispatch cells: the guest runs the tubular-like Dispatcher
// (scenarios/dispatch, dispatch.o on its netns link) and the host sends to every address of a /24
// on one port, or to every port of one address, and each binding's traffic must reach its one
// socket: datagrams read, connections accepted. Beside it, traffic the bindings do not cover (no
// binding: the regular lookup finds nothing, ICMP port unreachable or RST) and traffic for a
// binding whose service is down (a binding without a socket: the program drops it, missing_socket),
// so misses and errors show by reason.
//
// Two vxo stacks on a veth pair in one thread, on one virtual clock (as net/'s tests join them),
// configured by the network scenarios' own configureMachine (addresses, neighbours, `ip route add
// local` for the service prefixes on the guest, a route via the guest on the host): each datagram
// and each handshake is real stack traffic, every destination is sent exactly once, and the run
// is deterministic: the suite's 'one-thread' column. It is the only one with TCP accepts (an
// accept needs a client completing the handshake; pktgen's SYNs through the four workers never do)
// and with misses by reason (pktgen has one template, and it covers the binding); the 'workers'
// column (sk-lookup-dispatch-workers.ts) floods the same destinations through the four workers.
import { BootState } from '../../net/core/boot-state.ts';
import { net_tx_action, register_netdevice } from '../../net/core/dev.ts';
import { inet_pton4 } from '../../net/core/inet-addr.ts';
import { loopback_poll } from '../../net/core/loopback.ts';
import type { Sockaddr } from '../../net/core/msghdr.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { nstat } from '../../net/core/snmp.ts';
import { E } from '../../net/core/sock-opts.ts';
import { AF_INET, SOCK_DGRAM, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { SO, SOL_SOCKET } from '../../net/core/socket-options.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import { VethDevice, veth_pair, veth_poll } from '../../net/core/veth.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { NSEC_PER_MSEC } from '../../net/core/clock.ts';
import { Socket } from '../../net/socket.ts';
import type { EngineName } from '../../bpf-vm/engines.ts';
import { Dispatcher } from '../dispatch/dispatcher.ts';
import { metricsBalanced, type DispatchMetrics } from '../dispatch/metrics.ts';
import type { DispatchProtocol } from '../dispatch/binding.ts';
import { configureMachine } from '../stack/machine-setup.ts';
import { NET_ADDRS, type StackSetupData } from '../stack/setup-data.ts';
import { RunError } from '../run/run-error.ts';
import type { SuiteRunWithNotes } from './run-suite.ts';

export const DISPATCH_ROWS = ['dispatch udp /24', 'dispatch tcp /24', 'dispatch udp ports', 'dispatch tcp ports'] as const;
export type DispatchRow = (typeof DISPATCH_ROWS)[number];

/** The services: a /24 on one port (TEST-NET-1) and every port of one address (TEST-NET-2). */
export const DISPATCH_SERVICES = {
  prefix: '192.0.2.0/24', prefixPort: { udp: 53, tcp: 80 },
  address: '198.51.100.1',
  /** The service whose socket is down: a binding without a socket (missing_socket). */
  downPort: { udp: 5353, tcp: 8080 },
  /** A port in the /24 no binding covers (no_binding: the regular lookup then finds nothing). */
  unboundPort: { udp: 54, tcp: 81 },
  /** Where each label's one socket is bound: loopback, a port of its own; the binding, not bind(), sends traffic there. */
  socketPort: { udp: 10053, tcp: 10080 },
} as const;

/** Probes per miss kind in each cell (to the unbound port, to the down service). */
export const DISPATCH_MISS_PROBES = 16;

// vxo's socket calls never block (net/socket.ts): MSG_DONTWAIT only says so.
const MSG_DONTWAIT = 0x40;

export interface DispatchCellPlan {
  row: DispatchRow;
  protocol: DispatchProtocol;
  /** 'prefix': every address of the /24 on one port; 'ports': every port 1..65535 of one address. */
  shape: 'prefix' | 'ports';
  /** Destinations the bindings cover (256 or 65,535). */
  targets: number;
}

export function dispatchPlan(row: DispatchRow): DispatchCellPlan {
  const protocol: DispatchProtocol = row.includes('udp') ? 'udp' : 'tcp';
  const shape = row.endsWith('/24') ? 'prefix' : 'ports';
  return { row, protocol, shape, targets: shape === 'prefix' ? 256 : 65_535 };
}

/** Two machines: the host (client) and the guest (the dispatcher), on a veth pair and one clock. */
class Pair {
  readonly clock = new VirtualClock();
  readonly host: Net;
  readonly guest: Net;
  private readonly devh: VethDevice;
  private readonly devg: VethDevice;

  constructor() {
    const mac = (t: string): Uint8Array => Uint8Array.from(t.split(':').map((p) => parseInt(p, 16)));
    this.host = new Net(new BootState({ clock: this.clock, seed: 1 }), { hash_mix: 0 });
    this.guest = new Net(new BootState({ clock: this.clock, seed: 2 }), { hash_mix: 0 });
    // Deep receive queues: the host sends a burst before the wire is pumped.
    this.devh = new VethDevice('br0', mac(NET_ADDRS.hostMac), { queue_len: 1 << 20 });
    this.devg = new VethDevice('eth0', mac(NET_ADDRS.guestMac), { queue_len: 1 << 20 });
    veth_pair(this.devh, this.devg);
    register_netdevice(this.host, this.devh);
    register_netdevice(this.guest, this.devg);
    const base = { role: 'none', family: 4, port: 0 } as const;
    const guest: StackSetupData = {
      ...base, addr4: NET_ADDRS.guest4, addr6: NET_ADDRS.guest6,
      neigh: [{ family: 4, addr: NET_ADDRS.host4, mac: NET_ADDRS.hostMac }, { family: 6, addr: NET_ADDRS.host6, mac: NET_ADDRS.hostMac }],
      routes: { local: [DISPATCH_SERVICES.prefix, `${DISPATCH_SERVICES.address}/32`] },
    };
    const host: StackSetupData = {
      ...base, addr4: NET_ADDRS.host4, addr6: NET_ADDRS.host6,
      neigh: [{ family: 4, addr: NET_ADDRS.guest4, mac: NET_ADDRS.guestMac }, { family: 6, addr: NET_ADDRS.guest6, mac: NET_ADDRS.guestMac }],
      routes: { via: [{ prefix: DISPATCH_SERVICES.prefix, gw: NET_ADDRS.guest4 }, { prefix: `${DISPATCH_SERVICES.address}/32`, gw: NET_ADDRS.guest4 }] },
    };
    configureMachine(this.host, this.devh, host);
    configureMachine(this.guest, this.devg, guest);
  }

  /** Moves frames until nothing moves (both devices, both backlogs, both loopbacks). */
  pump(): number {
    let total = 0;
    for (;;) {
      let n = veth_poll(this.devh, 1024) + veth_poll(this.devg, 1024) + net_tx_action(this.host) + net_tx_action(this.guest);
      if (this.host.loopback_dev !== null) n += loopback_poll(this.host.loopback_dev);
      if (this.guest.loopback_dev !== null) n += loopback_poll(this.guest.loopback_dev);
      if (n === 0) return total;
      total += n;
    }
  }

  /** Lets `ms` of virtual time pass (timers: delayed ACKs, retransmissions), pumping each millisecond. */
  advance(ms: number): void {
    for (let i = 0; i < ms; i++) {
      this.clock.advance(NSEC_PER_MSEC);
      this.pump();
    }
  }
}

function sock(net: Net, type: number): Socket {
  const s = Socket.create(net, AF_INET, type);
  if (typeof s === 'number') throw new RunError('EIO', `dispatch: socket: errno ${-s}`);
  return s;
}

function ok(r: number, what: string): void {
  if (r < 0) throw new RunError('EIO', `dispatch: ${what}: errno ${-r}`);
}

const sa = (addr: string, port: number): Sockaddr => ({ family: AF_INET, addr: inet_pton4(addr), port });

/** Destination i of the plan: address .i of the /24 on the service port, or port i + 1 of the address. */
function target(p: DispatchCellPlan, i: number): Sockaddr {
  if (p.shape === 'prefix') return sa(`192.0.2.${i}`, DISPATCH_SERVICES.prefixPort[p.protocol]);
  return sa(DISPATCH_SERVICES.address, i + 1);
}

/** The counters of one dispatch cell's run, by name (every one a count over the run). */
export interface DispatchCounts {
  sent: number;
  /** To the bindings' destinations. */
  covered: number;
  /** Datagrams read / connections accepted on the label's one socket. */
  reached: number;
  /** The down service's probes and the unbound port's. */
  probes_down: number;
  probes_unbound: number;
  /** UDP: UdpNoPorts (no socket, ICMP port unreachable). TCP: connect() refused by a RST. */
  refused: number;
  /** UDP: datagrams the socket dropped (UdpInErrors: its receive buffer was full). */
  dropped: number;
  /** TCP: connect() still in progress when the run ended (0 on a finished run). */
  pending: number;
}

/**
 * Runs one dispatch cell: the bindings, the one socket per live label, then every destination
 * once and the miss probes. The figure is what reached the socket per destination (1.0: each of
 * the /24's 256 addresses or the address's 65,535 ports reached it).
 */
export function runDispatchCell(row: DispatchRow, engine: EngineName, o: { stride?: number } = {}): SuiteRunWithNotes {
  const p = dispatchPlan(row);
  // stride > 1 (tests only): every stride-th destination, the same code path on fewer handshakes.
  const stride = o.stride ?? 1;
  if (!Number.isInteger(stride) || stride < 1) throw new RunError('EINVAL', `dispatch: stride ${stride}`);
  const t0 = performance.now();
  const m = new Pair();
  const d = new Dispatcher(m.guest, { engine });
  const proto = p.protocol;
  const type = proto === 'udp' ? SOCK_DGRAM : SOCK_STREAM;
  if (p.shape === 'prefix') {
    d.addBinding({ label: 'svc', protocol: proto, prefix: DISPATCH_SERVICES.prefix, port: DISPATCH_SERVICES.prefixPort[proto] });
  } else {
    d.addBinding({ label: 'svc', protocol: proto, prefix: `${DISPATCH_SERVICES.address}/32`, port: 0 });
  }
  // The down service: its binding exists, its socket does not (never registered).
  d.addBinding({ label: 'down', protocol: proto, prefix: DISPATCH_SERVICES.prefix, port: DISPATCH_SERVICES.downPort[proto] });
  const svc = sock(m.guest, type);
  ok(svc.bind(sa('127.0.0.1', DISPATCH_SERVICES.socketPort[proto])), 'bind the service socket');
  if (proto === 'tcp') ok(svc.listen(4096), 'listen');
  d.registerSocket('svc', svc.sk);

  const c: DispatchCounts = { sent: 0, covered: 0, reached: 0, probes_down: 0, probes_unbound: 0, refused: 0, dropped: 0, pending: 0 };
  const probe = (i: number, kind: 'down' | 'unbound'): Sockaddr =>
    sa(`192.0.2.${(i * 17) & 255}`, kind === 'down' ? DISPATCH_SERVICES.downPort[proto] : DISPATCH_SERVICES.unboundPort[proto]);
  const dests: { to: Sockaddr; kind: 'covered' | 'down' | 'unbound' }[] = [];
  for (let i = 0; i < p.targets; i += stride) dests.push({ to: target(p, i), kind: 'covered' });
  for (let i = 0; i < DISPATCH_MISS_PROBES; i++) dests.push({ to: probe(i, 'down'), kind: 'down' }, { to: probe(i, 'unbound'), kind: 'unbound' });
  const tally = (k: 'covered' | 'down' | 'unbound'): void => {
    c.sent++;
    if (k === 'covered') c.covered++;
    else if (k === 'down') c.probes_down++;
    else c.probes_unbound++;
  };

  const buf = new Uint8Array(64);
  if (proto === 'udp') {
    const client = sock(m.host, SOCK_DGRAM);
    const payload = new Uint8Array(0);
    const drain = (): void => {
      for (;;) {
        const n = svc.recv(buf, MSG_DONTWAIT);
        if (n < 0) break;
        c.reached++;
      }
    };
    for (let i = 0; i < dests.length; i++) {
      const x = dests[i]!;
      ok(client.sendto(payload, x.to, MSG_DONTWAIT), 'sendto');
      tally(x.kind);
      // A batch at a time, read as it lands: the socket's receive buffer holds a few dozen
      // datagrams' truesize, not 65k of them (a reader keeping up, as the service would).
      if ((i & 31) === 31) {
        m.pump();
        drain();
      }
    }
    m.pump();
    drain();
    const ns = nstat(m.guest.mib);
    c.refused = ns['UdpNoPorts'] ?? 0;
    c.dropped = ns['UdpInErrors'] ?? 0;
  } else {
    const open: { s: Socket; kind: 'covered' | 'down' | 'unbound' }[] = [];
    const settle = (): void => {
      m.pump();
      for (;;) {
        const a = svc.accept();
        if (typeof a === 'number') break;
        c.reached++;
        a.close();
      }
      for (const o of open) {
        const err = o.s.getsockopt(SOL_SOCKET, SO.SO_ERROR);
        if (typeof err.value === 'number' && err.value === E.ECONNREFUSED) c.refused++;
        else if (o.s.sk.skc_state === TCP_STATES.TCP_SYN_SENT) c.pending++;
        o.s.close();
      }
      open.length = 0;
      m.pump();
    };
    for (let i = 0; i < dests.length; i++) {
      const x = dests[i]!;
      const s = sock(m.host, SOCK_STREAM);
      const r = s.connect(x.to);
      if (r < 0 && r !== -E.EINPROGRESS) throw new RunError('EIO', `dispatch: connect: errno ${-r}`);
      tally(x.kind);
      open.push({ s, kind: x.kind });
      if (open.length === 256) settle();
    }
    settle();
    m.advance(10);
    for (;;) {
      const a = svc.accept();
      if (typeof a === 'number') break;
      c.reached++;
      a.close();
    }
  }
  const seconds = (performance.now() - t0) / 1e3;
  const dm = d.metrics();
  const ns = nstat(m.guest.mib);
  const dest = d.destinations().find((x) => x.label === 'svc');
  // Every destination accounted for: reached its socket or refused, and the program's ledger
  // (lookups = no binding + missing socket + assigned + errors) closes, each lookup one packet.
  const lookupsExpected = c.sent;
  const balanced = c.sent === c.reached + c.refused + c.dropped + c.pending && metricsBalanced(dm) && dm.lookups === lookupsExpected
    && dm.assigned === c.covered && dm.missing_socket === c.probes_down && dm.no_binding === c.probes_unbound;
  const counters: Record<string, number> = {
    sent: c.sent, covered: c.covered, reached: c.reached, refused: c.refused, dropped: c.dropped, pending: c.pending,
    probes_down: c.probes_down, probes_unbound: c.probes_unbound,
    ...prefixed('dispatch_', dm),
    svc_lookups: dest?.metrics.lookups ?? 0,
    ...pick(ns, ['UdpInDatagrams', 'UdpNoPorts', 'UdpInErrors', 'TcpPassiveOpens', 'TcpInSegs', 'TcpOutRsts', 'TcpExtListenDrops', 'TcpExtListenOverflows', 'TcpExtTCPReqQFullDrop']),
  };
  return {
    value: c.reached / c.covered,
    seconds,
    balanced,
    counters,
    explain: {
      // What a bind()-based setup would need for the same traffic: one socket per covered destination.
      sockets_used: 1,
      sockets_bind_needs: p.targets,
      destinations_sent: c.covered,
      miss_no_binding: dm.no_binding,
      miss_missing_socket: dm.missing_socket,
      errors: dm.err_einval + dm.err_esocktnosupport + dm.err_eprototype + dm.err_eafnosupport + dm.err_eexist + dm.err_other + dm.bad_destination,
      us_per_destination: (seconds * 1e6) / c.sent,
    },
    notes: [
      proto === 'tcp'
        ? 'host and guest stacks on a veth pair in one thread, virtual clock: an accept needs a client\'s handshake, which pktgen\'s SYNs through the four workers never complete'
        : 'host and guest stacks on a veth pair in one thread, virtual clock: every destination once, and the miss probes (the workers column floods the same destinations through the four workers)',
      p.shape === 'prefix'
        ? `binding ${proto} ${DISPATCH_SERVICES.prefix} port ${DISPATCH_SERVICES.prefixPort[proto]} -> one socket on 127.0.0.1:${DISPATCH_SERVICES.socketPort[proto]}`
        : `binding ${proto} ${DISPATCH_SERVICES.address}/32 every port -> one socket on 127.0.0.1:${DISPATCH_SERVICES.socketPort[proto]}`,
      `misses: ${DISPATCH_MISS_PROBES} to an unbound port (no binding), ${DISPATCH_MISS_PROBES} to a binding without a socket (missing_socket)`,
    ],
  };
}

function prefixed(prefix: string, m: DispatchMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) out[`${prefix}${k}`] = v;
  return out;
}

function pick(o: Record<string, number>, keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = o[k] ?? 0;
  return out;
}
