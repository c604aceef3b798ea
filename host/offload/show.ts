// Host-side introspection (an open item of the RFC: nothing on the host showed that a tap ran an
// offloaded program): what runs and what it holds, as data and as bpftool-like text.
import { dumpMap, mapTypeName, toHex, type MapEntry } from '../../bpf-vm/index.ts';
import type { HostMap, HostMapTable } from './map-table.ts';
import type { OffloadedProgram } from './offloaded-program.ts';

export interface OffloadProgShow {
  /** '' when the guest sent no metadata (an unnamed program, as the kernel shows it). */
  name: string;
  tag: string;
  type: 'xdp';
  gplCompatible: boolean;
  license: string;
  insnCount: number;
  /** bpftool's "xlated" size: instructions times 8. */
  xlatedBytes: number;
  /** Handles of the maps it uses (bpftool's map_ids). */
  mapHandles: number[];
  /** Tap queues it runs on. */
  queues: 'queue 0' | 'all';
}

export interface OffloadMapShow {
  handle: number;
  name: string;
  type: number;
  typeName: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** Host memory charged (bpftool's memlock). */
  bytes: number;
  keyType?: string;
  valueType?: string;
  /** FREE came while the program held it: no handle any more, released at detach. */
  orphan: boolean;
  usedByProgram: boolean;
  /** `bpftool map dump`: every entry (arrays: every slot). */
  entries?: MapEntry[];
}

export interface OffloadShow {
  program: OffloadProgShow | undefined;
  maps: OffloadMapShow[];
  usage: { maps: number; maxMaps: number; bytes: number; maxBytes: number };
}

function mapShow(hm: HostMap, used: boolean, dump: boolean): OffloadMapShow {
  const s = hm.map.spec;
  const out: OffloadMapShow = {
    handle: hm.handle, name: hm.meta?.name ?? '', type: s.type, typeName: mapTypeName(s.type), keySize: s.keySize,
    valueSize: s.valueSize, maxEntries: s.maxEntries, flags: s.flags, bytes: hm.bytes, orphan: hm.orphan, usedByProgram: used,
  };
  if (hm.meta?.keyType !== undefined) out.keyType = hm.meta.keyType;
  if (hm.meta?.valueType !== undefined) out.valueType = hm.meta.valueType;
  if (dump) out.entries = dumpMap(hm.map);
  return out;
}

export function showOffload(prog: OffloadedProgram | undefined, table: HostMapTable, opts: { dump: boolean; allQueues: boolean }): OffloadShow {
  const held = prog?.holds ?? new Set<HostMap>();
  return {
    program: prog && {
      name: prog.name, tag: prog.tag, type: 'xdp', gplCompatible: prog.gplCompatible, license: prog.program.license,
      insnCount: prog.insnCount, xlatedBytes: prog.insnCount * 8, mapHandles: prog.maps.map((m) => m.handle),
      queues: opts.allQueues ? 'all' : 'queue 0',
    },
    maps: table.all().map((hm) => mapShow(hm, held.has(hm), opts.dump)),
    usage: { maps: table.count, maxMaps: table.limits.maxMaps, bytes: table.bytes, maxBytes: table.limits.maxBytes },
  };
}

const spaced = (b: Uint8Array): string => (toHex(b).match(/../g) ?? []).join(' ');

/**
 * Text in bpftool's shapes: `prog show` (id, type, name, tag, gpl; xlated, map_ids), then for
 * each map `map show` (handle, type, name, flags; key, value, max_entries, memlock) and, with
 * entries, `map dump` lines (`key: .. value: ..`; arrays without their all-zero slots).
 */
export function formatOffloadShow(s: OffloadShow, tap = 'tap0'): string {
  const lines: string[] = [];
  const p = s.program;
  if (p === undefined) {
    lines.push(`${tap}: no offloaded program`);
  } else {
    lines.push(`${tap}: xdp offload (${p.queues})`);
    lines.push(`xdp  ${p.name ? `name ${p.name}  ` : ''}tag ${p.tag}${p.gplCompatible ? '  gpl' : ''}`);
    lines.push(`\txlated ${p.xlatedBytes}B  insns ${p.insnCount}${p.mapHandles.length ? `  map_ids ${p.mapHandles.join(',')}` : ''}`);
  }
  for (const m of s.maps) {
    const id = m.orphan ? '-' : String(m.handle);
    lines.push(`${id}: ${m.typeName}  ${m.name ? `name ${m.name}  ` : ''}flags 0x${m.flags.toString(16)}${m.orphan ? '  (freed, held by the program)' : ''}`);
    lines.push(`\tkey ${m.keySize}B  value ${m.valueSize}B  max_entries ${m.maxEntries}  memlock ${m.bytes}B`);
    if (m.keyType !== undefined || m.valueType !== undefined) lines.push(`\tbtf key ${m.keyType ?? '?'}  value ${m.valueType ?? '?'}`);
    if (m.entries) {
      const array = m.typeName === 'array';
      let shown = 0;
      for (const e of m.entries) {
        if (array && e.value.every((b) => b === 0)) continue;
        lines.push(`\tkey: ${spaced(e.key)}  value: ${spaced(e.value)}`);
        shown++;
      }
      lines.push(`\tFound ${array ? `${shown} non-zero of ${m.entries.length}` : m.entries.length} element${m.entries.length === 1 ? '' : 's'}`);
    }
  }
  lines.push(`maps ${s.usage.maps}/${s.usage.maxMaps}  memory ${s.usage.bytes}/${s.usage.maxBytes}B`);
  return lines.join('\n');
}
