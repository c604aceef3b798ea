// A socket dispatcher in the spirit of Cloudflare's tubular (sockets.md §9), on one network
// namespace: bindings (protocol, prefix, port or every port) name labels, labels name sockets, and
// scenarios/sk/dispatch.o (an SK_LOOKUP program attached through a netns link) steers each lookup
// that matches a binding to its label's socket. The state lives where tubular keeps it, in the
// program's maps: `bindings` (LPM_TRIE) and `destinations` (SOCKMAP); the metrics are the
// program's own counters. Use it inside the machine whose Net it is given (the guest's worker):
// inserting a socket into a SOCKMAP needs the socket itself, as the kernel needs its fd.
import { join } from 'node:path';
import type { EngineName } from '../../bpf-vm/engines.ts';
import type { BpfMap } from '../../bpf-vm/maps/map.ts';
import { loadObjectFile, type Collection } from '../../bpf-vm/prog/collection.ts';
import { SkLookupProgramRunner } from '../../bpf-vm/prog/sk-lookup-runner.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import type { Net } from '../../net/core/net-namespace.ts';
import { bpf_netns_link_detach, netns_bpf_link_create, type NetnsBpfLink } from '../../net/core/sk-lookup.ts';
import { sock_map_delete_elem_sys, sock_map_update_elem_sys } from '../../net/core/sock-map.ts';
import type { Sock } from '../../net/core/sock.ts';
import { AF_INET6 } from '../../net/core/socket-constants.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import {
  bindingText, encodeBindingValue, encodeBindKey, parsePrefix, protocolNumber, type Binding, type DispatchProtocol,
} from './binding.ts';
import { DispatchError } from './errors.ts';
import { readDestMetrics, readMetrics, type DestMetrics, type DispatchMetrics } from './metrics.ts';

export const DISPATCH_OBJECT = join(PACKAGE_ROOT, 'scenarios', 'sk', 'dispatch.o');
/** dispatch.c's MAX_DESTINATIONS: the SOCKMAP's and dest_metrics' size. */
export const MAX_DESTINATIONS = 1024;

/** A destination: one socket slot per (label, family, protocol), as tubular allocates them. */
export interface Destination {
  id: number;
  label: string;
  family: 4 | 6;
  protocol: DispatchProtocol;
}

export interface DestinationInfo extends Destination {
  /** The registered socket's cookie, or undefined when none is registered (or it closed). */
  cookie: bigint | undefined;
  metrics: DestMetrics;
}

export interface DispatcherOptions {
  /** The object (default scenarios/sk/dispatch.o). */
  object?: string;
  engine?: EngineName;
}

const destKey = (label: string, family: 4 | 6, protocol: DispatchProtocol): string => `${label}\u0000${family}\u0000${protocol}`;

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

function check(r: number, what: string): void {
  if (r >= 0) return;
  const code = r === -17 ? 'EEXIST' : r === -2 ? 'ENOENT' : r === -28 ? 'ENOSPC' : r === -95 ? 'EOPNOTSUPP' : r === -7 ? 'E2BIG' : 'EINVAL';
  throw new DispatchError(code, `${what}: errno ${-r} (${code})`);
}

export class Dispatcher {
  private readonly coll: Collection;
  private readonly bindingsMap: BpfMap;
  private readonly destinationsMap: BpfMap;
  private readonly link: NetnsBpfLink;
  private readonly dests = new Map<string, Destination>();
  private readonly binds = new Map<string, Binding>();
  private nextDest = 0;

  /** Loads the dispatcher, verifies it, and attaches it to `net` (BPF_LINK_CREATE, BPF_SK_LOOKUP). */
  constructor(readonly net: Net, o: DispatcherOptions = {}) {
    this.coll = loadObjectFile(o.object ?? DISPATCH_OBJECT);
    this.bindingsMap = this.map('bindings');
    this.destinationsMap = this.map('destinations');
    const runner = new SkLookupProgramRunner(this.coll.program('dispatch'), { netHost: net_bpf_host(net), ...(o.engine ? { engine: o.engine } : {}) });
    const link = netns_bpf_link_create(net, runner);
    if (typeof link === 'number') check(link, 'attaching the dispatcher');
    this.link = link as NetnsBpfLink;
  }

  private map(name: string): BpfMap {
    const m = this.coll.maps.get(name);
    if (m === undefined) throw new DispatchError('EINVAL', `the dispatcher object has no map ${name}`);
    return m;
  }

  private destination(label: string, family: 4 | 6, protocol: DispatchProtocol): Destination {
    const k = destKey(label, family, protocol);
    let d = this.dests.get(k);
    if (d === undefined) {
      if (this.nextDest >= MAX_DESTINATIONS) throw new DispatchError('ENOSPC', `more than ${MAX_DESTINATIONS} destinations`);
      d = { id: this.nextDest++, label, family, protocol };
      this.dests.set(k, d);
    }
    return d;
  }

  /** Adds (or moves to another label) a binding: traffic it matches goes to the label's socket. */
  addBinding(b: Binding): void {
    if (b.label === '') throw new DispatchError('EINVAL', 'a binding needs a label');
    const prefix = parsePrefix(b.prefix);
    const key = encodeBindKey(b.protocol, prefix, b.port);
    const dest = this.destination(b.label, prefix.family, b.protocol);
    check(this.bindingsMap.update(key, encodeBindingValue(dest.id, key), 0), `binding ${bindingText(b)}`);
    this.binds.set(keyText(key), { ...b, prefix: prefix.text });
  }

  /** Removes a binding (ENOENT if there is none for that protocol, prefix and port). */
  removeBinding(protocol: DispatchProtocol, prefix: string, port: number): void {
    const key = encodeBindKey(protocol, parsePrefix(prefix), port);
    check(this.bindingsMap.delete(key), `binding ${protocol} ${prefix} port ${port}`);
    this.binds.delete(keyText(key));
  }

  bindings(): Binding[] {
    return [...this.binds.values()];
  }

  /**
   * Registers `sk` as the socket of `label` for its family and protocol (a listening TCP socket or
   * an unconnected UDP one; the SOCKMAP refuses what the kernel refuses). Replaces an earlier one.
   */
  registerSocket(label: string, sk: Sock): Destination {
    const family = sk.skc_family === AF_INET6 ? 6 : 4;
    const protocol: DispatchProtocol = sk.sk_protocol === protocolNumber('tcp') ? 'tcp' : 'udp';
    const d = this.destination(label, family, protocol);
    check(sock_map_update_elem_sys(this.destinationsMap, u32(d.id), sk, 0), `registering a socket for ${label} (${protocol}${family})`);
    return d;
  }

  /** Takes the socket of (label, family, protocol) out: its bindings then count missing_socket. */
  unregisterSocket(label: string, family: 4 | 6, protocol: DispatchProtocol): void {
    const d = this.dests.get(destKey(label, family, protocol));
    if (d === undefined) throw new DispatchError('ENOENT', `no destination ${label} ${protocol}${family}`);
    check(sock_map_delete_elem_sys(this.destinationsMap, u32(d.id)), `unregistering ${label}`);
  }

  destinations(): DestinationInfo[] {
    return [...this.dests.values()].map((d) => {
      const v = this.destinationsMap.lookup(u32(d.id));
      const cookie = v === undefined ? undefined : new DataView(v.buffer, v.byteOffset).getBigUint64(0, true);
      return { ...d, cookie, metrics: readDestMetrics(this.map('dest_metrics'), d.id) };
    });
  }

  metrics(): DispatchMetrics {
    return readMetrics(this.map('metrics'));
  }

  /** The program's maps by name, for dumps. */
  get maps(): ReadonlyMap<string, BpfMap> {
    return this.coll.maps;
  }

  get linkId(): number {
    return this.link.id;
  }

  /** Detaches the link: lookups go back to the hash tables alone. */
  close(): void {
    bpf_netns_link_detach(this.link);
  }
}

function keyText(key: Uint8Array): string {
  return Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('');
}
