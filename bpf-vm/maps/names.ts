import { BPF_MAP_TYPE } from './map.ts';

/** The name bpftool prints for a map type (e.g. `array`, `hash`, `devmap`). */
export function mapTypeName(type: number): string {
  const e = Object.entries(BPF_MAP_TYPE).find(([, v]) => v === type);
  return e ? e[0].replace('BPF_MAP_TYPE_', '').toLowerCase() : `type ${type}`;
}
