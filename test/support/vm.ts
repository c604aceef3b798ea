// Small conveniences for tests that run objects on vxo's engines.
import { fileURLToPath } from 'node:url';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import type { EngineName } from '../../bpf-vm/engines.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import { dumpMap } from '../../bpf-vm/maps/dump.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../../bpf-vm/maps/map.ts';
import { loadObjectFile, type Collection } from '../../bpf-vm/prog/collection.ts';
import { bpfProgTestRun, type TestRunResult } from '../../bpf-vm/prog/test-run.ts';

export const XDP_DIR = fileURLToPath(new URL('../../scenarios/xdp/', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ObjectRun extends TestRunResult {
  coll: Collection;
}

/** Loads `obj` fresh (maps empty), lets `setup` fill maps, runs one packet through BPF_PROG_TEST_RUN. */
export function runObject(obj: string, dataIn: Uint8Array, engine: EngineName, setup?: (c: Collection) => void, repeat = 1): ObjectRun {
  const coll = loadObjectFile(obj);
  setup?.(coll);
  return { coll, ...bpfProgTestRun(coll.program(), { dataIn, engine, repeat }) };
}

export function u32Key(k: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, k, true);
  return b;
}

export function u64At(map: BpfMap | undefined, key: number): bigint {
  if (map === undefined) throw new Error('no such map');
  const v = map.lookup(u32Key(key));
  if (v === undefined) throw new Error(`key ${key} missing`);
  return new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(0, true);
}

/** Non-zero entries of a map as { keyHex: valueHex }, for compact assertions. */
export function nonZero(map: BpfMap | undefined): Record<string, string> {
  if (map === undefined) throw new Error('no such map');
  const out: Record<string, string> = {};
  for (const e of dumpMap(map)) if (e.value.some((b) => b !== 0)) out[toHex(e.key)] = toHex(e.value);
  return out;
}

/** An XDP program from assembly; `lddw %r1, map_by_fd(name)` names maps given in `maps`. */
export function asmXdp(source: string, maps: Record<string, BpfMap> = {}): Program {
  const fds = new FdTable();
  const byName = new Map(Object.entries(maps).map(([n, m]) => [n, fds.add(m)]));
  const insns = assemble(source, { mapId: (name) => byName.get(name) });
  return { name: 'asm', section: 'xdp', type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, insns, funcs: [], license: 'GPL', fds };
}

/**
 * Every map of a collection in the golden files' conventions: array-like maps list only non-zero
 * values, hash-like maps every entry sorted by key hex; keys and values as hex of their bytes.
 */
export function goldenMaps(coll: Collection): Record<string, { key: string; value: string }[]> {
  const out: Record<string, { key: string; value: string }[]> = {};
  for (const [name, map] of coll.maps) {
    const t = map.spec.type;
    const arrayLike = t === BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY || t === BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY;
    let entries = dumpMap(map).map((e) => ({ key: toHex(e.key), value: toHex(e.value) }));
    if (arrayLike) entries = entries.filter((e) => /[^0]/.test(e.value));
    else entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    out[name] = entries;
  }
  return out;
}
