// `vxo run flood|netperf` BPF flags: --attach MACHINE:HOOK:OBJ[:SECTION], --map
// MACHINE:NAME:KEYHEX:VALUEHEX, --bind 'PROTO PREFIX PORT' (the dispatcher on the guest, steering
// to the guest's application socket) into the runner's ScenarioBpf. Syntax only: the runner checks
// the objects and the workers load them.
import type { EngineName } from '../../bpf-vm/engines.ts';
import type { DispatchProtocol } from '../dispatch/binding.ts';
import type { BpfAttachSpec, MapInit } from '../stack/bpf-attach.ts';
import { NET_ADDRS } from '../stack/setup-data.ts';
import type { ScenarioBpf } from '../run/bpf-options.ts';
import type { HostTcSpec } from '../../host/net/tc-attach.ts';
import { UsageError } from './errors.ts';

export interface BpfFlags {
  attach?: string[];
  map?: string[];
  bind?: string[];
}

export const ATTACH_HOOKS = ['tc-ingress', 'tc-egress', 'sk-lookup', 'socket-filter', 'xdp', 'xdp-offload'] as const;

/** Commander's collector for repeatable options. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function machineOf(text: string, flag: string): 'guest' | 'host' {
  if (text !== 'guest' && text !== 'host') throw new UsageError(`${flag}: the machine is guest or host, not ${JSON.stringify(text)}`);
  return text;
}

/** The host's own devices (host/net: the NIC and the tap, the bridge's ports), as host/DEV names them. */
const HOST_DEVS = ['nic', 'tap', 'eth0', 'tap0'] as const;

export function scenarioBpf(f: BpfFlags, engine: EngineName | undefined): ScenarioBpf | undefined {
  const attach = f.attach ?? [], maps = f.map ?? [], binds = f.bind ?? [];
  if (attach.length === 0 && maps.length === 0 && binds.length === 0) return undefined;
  const b: ScenarioBpf = { ...(engine !== undefined ? { engine } : {}) };
  const specs: Record<'guest' | 'host', BpfAttachSpec[]> = { guest: [], host: [] };
  // What --map writes into: the last program attached on each machine.
  const last: Partial<Record<'guest' | 'host', { maps?: readonly MapInit[] }>> = {};
  const hostTc: HostTcSpec[] = [];
  for (const a of attach) {
    const parts = a.split(':');
    if (parts.length < 3 || parts.length > 4) throw new UsageError(`--attach ${a}: MACHINE[/DEV]:HOOK:OBJECT[:SECTION], e.g. guest:tc-ingress:scenarios/sk/tc_tproxy.o or host/nic:tc-ingress:prog.o`);
    const [where, hook, object, section] = parts as [string, string, string, string | undefined];
    const [m, dev] = where.split('/') as [string, string | undefined];
    const machine = machineOf(m, `--attach ${a}`);
    const sec = section !== undefined ? { section } : {};
    // guest, guest/eth0, host and host/br0 are the stacks' devices; host/nic and host/tap the host's own.
    const onHostDev = machine === 'host' && dev !== undefined && dev !== 'br0';
    if (dev !== undefined && !(machine === 'guest' ? dev === 'eth0' : dev === 'br0' || (HOST_DEVS as readonly string[]).includes(dev))) {
      throw new UsageError(`--attach ${a}: ${machine} has no device ${dev} (${machine === 'guest' ? 'eth0' : ['br0', ...HOST_DEVS].join(', ')})`);
    }
    if (onHostDev && hook !== 'tc-ingress' && hook !== 'tc-egress') throw new UsageError(`--attach ${a}: on host/${dev} only tc-ingress and tc-egress`);
    switch (hook) {
      case 'tc-ingress': case 'tc-egress': {
        const direction = hook === 'tc-ingress' ? 'ingress' : 'egress';
        if (onHostDev) {
          const t: HostTcSpec = { dev: dev!, direction, object, ...sec };
          hostTc.push(t);
          last.host = t;
        } else {
          const t: Extract<BpfAttachSpec, { kind: 'tc' }> = { kind: 'tc', direction, object, ...sec };
          specs[machine].push(t);
          last[machine] = t;
        }
        break;
      }
      case 'sk-lookup': case 'socket-filter': {
        const t: Extract<BpfAttachSpec, { kind: 'sk_lookup' | 'socket_filter' }> = { kind: hook === 'sk-lookup' ? 'sk_lookup' : 'socket_filter', object, ...sec };
        specs[machine].push(t);
        last[machine] = t;
        break;
      }
      case 'xdp': case 'xdp-offload':
        if (machine !== 'guest') throw new UsageError(`--attach ${a}: XDP attaches to the guest's virtio_net here (the host NIC's program is vxo run case1|case2 --prog)`);
        if (b.guestXdp !== undefined) throw new UsageError('--attach: one XDP program per device');
        // Offload falls back to native when the device refuses the program (ip link ... xdpoffload || xdpdrv).
        b.guestXdp = { object, ...sec, mode: hook === 'xdp' ? 'native' : 'offload', fallbackNative: hook === 'xdp-offload' };
        break;
      default:
        throw new UsageError(`--attach ${a}: hook ${hook}: ${ATTACH_HOOKS.join(', ')}`);
    }
  }
  if (hostTc.length > 0) b.hostTc = hostTc;
  const inits: Record<'guest' | 'host', MapInit[]> = { guest: [], host: [] };
  for (const s of maps) {
    const parts = s.split(':');
    if (parts.length !== 4) throw new UsageError(`--map ${s}: MACHINE:MAP:KEYHEX:VALUEHEX, e.g. guest:tproxy_services:06000050:32620000`);
    const [m, map, key, value] = parts as [string, string, string, string];
    inits[machineOf(m, `--map ${s}`)].push({ map, key, value });
  }
  if (binds.length > 0) {
    const bindings = binds.map((t) => {
      const w = t.trim().split(/\s+/);
      if (w.length !== 3 || (w[0] !== 'tcp' && w[0] !== 'udp')) throw new UsageError(`--bind ${JSON.stringify(t)}: 'PROTO PREFIX PORT', e.g. 'tcp 192.0.2.0/24 80' (port 0: every port)`);
      const port = Number(w[2]);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--bind ${JSON.stringify(t)}: port 0..65535`);
      return { protocol: w[0] as DispatchProtocol, prefix: w[1]!, port };
    });
    specs.guest.push({ kind: 'dispatcher', label: 'app', bindings });
    // The guest owns the bound prefixes (ip route add local P dev lo); the host reaches them through it.
    const v4 = [...new Set(bindings.map((x) => x.prefix).filter((p) => !p.includes(':')))];
    b.guestRoutes = { local: v4 };
    b.hostRoutes = { via: v4.map((prefix) => ({ prefix, gw: NET_ADDRS.guest4 })) };
  }
  for (const m of ['guest', 'host'] as const) {
    if (inits[m].length > 0) {
      const target = last[m];
      if (target === undefined) throw new UsageError(`--map ${m}:...: attach a program to the ${m} first (--attach ${m}:...)`);
      target.maps = [...(target.maps ?? []), ...inits[m]];
    }
    if (specs[m].length > 0) b[m] = specs[m];
  }
  return b;
}

/** --target ADDR[:PORT] or :PORT (netperf connects there instead of netserver's address and port). */
export function netperfTarget(t: string | undefined): { addr?: string; port?: number } | undefined {
  if (t === undefined) return undefined;
  let addr: string, port: string | undefined;
  const br = /^\[([^\]]*)\](?::(.*))?$/.exec(t);
  if (br !== null) { addr = br[1]!; port = br[2]; }
  else if ((t.match(/:/g) ?? []).length > 1) { addr = t; port = undefined; }
  else { const i = t.lastIndexOf(':'); addr = i < 0 ? t : t.slice(0, i); port = i < 0 ? undefined : t.slice(i + 1); }
  const p = port === undefined ? undefined : Number(port);
  if (p !== undefined && !(/^\d+$/.test(port!) && p > 0 && p < 65536)) throw new UsageError(`--target ${t}: the port must be 1..65535`);
  if (addr === '' && p === undefined) throw new UsageError(`--target ${t}: ADDR[:PORT] or :PORT`);
  return { ...(addr !== '' ? { addr } : {}), ...(p !== undefined ? { port: p } : {}) };
}
