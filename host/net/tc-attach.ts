// The host worker's tc programs, as a run gives them (HostWorkerData.tc): each by object and
// section on a device and direction (`tc filter add dev X ingress|egress bpf da obj O sec S`),
// with the map entries user space writes before traffic (`bpftool map update ... key hex ...
// value hex`). What is attached and the objects' maps are reported back, the maps as shared state
// the runner opens to dump them (openSharedMap, dumpMap).
import type { EngineName } from '../../bpf-vm/engines.ts';
import { mapUpdateHex } from '../../bpf-vm/maps/update-hex.ts';
import type { BpfMap } from '../../bpf-vm/maps/map.ts';
import type { SharedMapState } from '../../bpf-vm/maps/shared.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { HostNetError } from './errors.ts';
import type { HostTc, HostTcHookReport, TcDirection } from './tc.ts';

/** One map entry written before traffic; key and value in hex ("06 00 00 50" or "06000050"). */
export interface HostTcMapInit {
  map: string;
  key: string;
  value: string;
}

/**
 * One filter. `dev`: 'nic' (eth0) or 'tap' (tap0), also as the bridge's ports 'br-port-nic' and
 * 'br-port-tap', a device's own name, or 'br0' (the host stack's device: needs a host stack, and
 * its programs run in net's tc and see the host stack's sockets).
 */
export interface HostTcSpec {
  dev: string;
  direction: TcDirection;
  object: string;
  /** Section or function name; the object's first program without it. */
  section?: string;
  engine?: EngineName;
  /** tc's prio (default: automatic, each new filter runs after the earlier ones). */
  prio?: number;
  maps?: readonly HostTcMapInit[];
}

/** What the host worker reports under `tc` in its 'ready' and 'done' messages. */
export interface HostTcReport {
  /** Per hook with filters: counters and filters (tc.ts). */
  hooks: HostTcHookReport[];
  /** Every attached object's maps by name (a name two objects share: "object.o:name" for the later ones). */
  maps: Record<string, SharedMapState>;
}

/** The specs attached in order, their maps kept for the report. */
export class HostTcAttachments {
  private readonly maps = new Map<string, BpfMap>();

  constructor(readonly tc: HostTc, private readonly engine?: EngineName) {}

  /** Loads, initialises the maps, attaches. Throws HostNetError (device, type, options) or the loader's/verifier's error. */
  attach(spec: HostTcSpec): void {
    if (typeof spec.object !== 'string' || spec.object === '') throw new HostNetError('EINVAL', 'host tc: a filter needs an object file');
    const coll = loadObjectFile(spec.object);
    const prog = coll.program(spec.section);
    const base = spec.object.split('/').pop()!;
    for (const init of spec.maps ?? []) {
      const m = coll.maps.get(init.map);
      if (m === undefined) throw new HostNetError('ENOENT', `host tc: ${base} has no map ${init.map} (have ${[...coll.maps.keys()].join(', ') || 'none'})`);
      try {
        mapUpdateHex(m, init.key, init.value);
      } catch (e) {
        throw new HostNetError('EINVAL', `host tc: ${base}: ${(e as Error).message}`, { cause: e });
      }
    }
    const engine = spec.engine ?? this.engine;
    this.tc.attach(spec.dev, spec.direction, prog, {
      name: `${base}:[${prog.section}]`,
      ...(engine !== undefined ? { engine } : {}),
      ...(spec.prio !== undefined ? { prio: spec.prio } : {}),
    });
    for (const [n, m] of coll.maps) {
      const prev = this.maps.get(n);
      this.maps.set(prev === undefined || prev === m ? n : `${base}:${n}`, m);
    }
  }

  report(): HostTcReport {
    const maps: Record<string, SharedMapState> = {};
    for (const [n, m] of this.maps) maps[n] = m.share();
    return { hooks: this.tc.report(), maps };
  }
}
