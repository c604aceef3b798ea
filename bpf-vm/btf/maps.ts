// BTF-defined maps: the `.maps` DATASEC holds one VAR per map whose type is an anonymous struct.
// bpf_helpers.h encodes every attribute in a member's *type*, not its value (the section's bytes
// are all zero): `__uint(name, N)` is `int (*name)[N]` (a pointer to an array of N elements) and
// `__type(name, T)` is `typeof(T) *name` (a pointer to T, whose size is the key/value size).
import { ElfError } from '../errors.ts';
import type { MapSpec } from '../maps/map.ts';
import type { Btf } from './btf.ts';
import type { BtfComposite, BtfMember } from './types.ts';

/** A map definition read from BTF: a MapSpec's fields (name: the VAR, also the ELF symbol). */
export interface BtfMapDef extends Pick<MapSpec, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries' | 'flags'> {
  keyType?: string;
  valueType?: string;
}

// Attributes libbpf accepts that change nothing for a spec here (NUMA placement, pinning
// policy, bloom-filter hashes): read so that a malformed one is still reported, then dropped.
const IGNORED_INT_FIELDS = new Set(['numa_node', 'pinning', 'map_extra']);

/** The map definitions of DATASEC `section` (`.maps`), in declaration order. */
export function btfMapDefs(btf: Btf, section = '.maps'): BtfMapDef[] {
  const sec = btf.datasec(section);
  if (!sec) return [];
  const out: BtfMapDef[] = [];
  for (const v of sec.vars) {
    const variable = btf.type(v.type);
    if (variable?.kind !== 'var') {
      throw new ElfError(btf.section, sec.at, `DATASEC ${section}: entry type [${v.type}] is not a VAR`);
    }
    const def = btf.type(btf.skipQualifiers(variable.type));
    if (def?.kind !== 'struct') {
      throw new ElfError(btf.section, variable.at, `map ${variable.name}: type [${variable.type}] is not a struct`);
    }
    out.push(parseDef(btf, variable.name, def));
  }
  return out;
}

function parseDef(btf: Btf, name: string, def: BtfComposite): BtfMapDef {
  const fail = (message: string): never => {
    throw new ElfError(btf.section, def.at, `map ${name}: ${message}`);
  };
  // Follows `m`'s pointer; every attribute member must be one.
  const pointee = (m: BtfMember): number => {
    const p = btf.type(btf.skipQualifiers(m.type));
    if (p?.kind !== 'ptr') return fail(`member ${m.name} is not a pointer (as __uint/__type declare it)`);
    return p.type;
  };
  const uint = (m: BtfMember): number => {
    const arr = btf.type(btf.skipQualifiers(pointee(m)));
    if (arr?.kind !== 'array') return fail(`member ${m.name} is not a pointer to an array (as __uint declares it)`);
    return arr.nelems;
  };

  const seen = new Set<string>();
  let type: number | undefined;
  let keySize: number | undefined;
  let valueSize: number | undefined;
  let maxEntries = 0;
  let flags = 0;
  let key: { size: number; name: string } | undefined;
  let value: { size: number; name: string } | undefined;
  for (const m of def.members) {
    if (seen.has(m.name)) fail(`member ${m.name} appears twice`);
    seen.add(m.name);
    switch (m.name) {
      case 'type':
        type = uint(m);
        break;
      case 'max_entries':
        maxEntries = uint(m);
        break;
      case 'map_flags':
        flags = uint(m);
        break;
      case 'key_size':
        keySize = uint(m);
        break;
      case 'value_size':
        valueSize = uint(m);
        break;
      case 'key': {
        const t = pointee(m);
        key = { size: btf.sizeOf(t), name: btf.nameOf(t) };
        break;
      }
      case 'value': {
        const t = pointee(m);
        value = { size: btf.sizeOf(t), name: btf.nameOf(t) };
        break;
      }
      case 'values':
        fail('map-in-map and prog-array initialisers (`values`) are not supported');
        break;
      default:
        if (IGNORED_INT_FIELDS.has(m.name)) {
          uint(m);
          break;
        }
        // An attribute this reader does not know could change what the map is: refuse it.
        fail(`unknown attribute ${m.name || '(anon)'}`);
    }
  }
  if (type === undefined) return fail('no `type` attribute');
  if (key && keySize !== undefined && key.size !== keySize) fail(`key_size ${keySize} disagrees with key type ${key.name} (${key.size} bytes)`);
  if (value && valueSize !== undefined && value.size !== valueSize) fail(`value_size ${valueSize} disagrees with value type ${value.name} (${value.size} bytes)`);
  const out: BtfMapDef = {
    name,
    type,
    keySize: key?.size ?? keySize ?? 0,
    valueSize: value?.size ?? valueSize ?? 0,
    maxEntries,
    flags,
  };
  if (key) out.keyType = key.name;
  if (value) out.valueType = value.name;
  return out;
}
