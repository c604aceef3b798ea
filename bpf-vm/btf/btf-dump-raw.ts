// `bpftool btf dump file F` (format raw): one line per type, `[id] KIND 'name' attributes`, and
// a tab-indented line per member, parameter, enumerator or DATASEC entry. Text matches bpftool's
// dump_btf_type (tools/bpf/bpftool/btf.c) byte for byte, so the two can be diffed.
import type { Btf } from './btf.ts';
import { BTF_INT } from './btf-encode.ts';
import type { BtfType } from './types.ts';

const KIND_STR: Record<BtfType['kind'], string> = {
  int: 'INT', ptr: 'PTR', array: 'ARRAY', struct: 'STRUCT', union: 'UNION', enum: 'ENUM', fwd: 'FWD',
  typedef: 'TYPEDEF', volatile: 'VOLATILE', const: 'CONST', restrict: 'RESTRICT', func: 'FUNC',
  func_proto: 'FUNC_PROTO', var: 'VAR', datasec: 'DATASEC', float: 'FLOAT', decl_tag: 'DECL_TAG',
  type_tag: 'TYPE_TAG', enum64: 'ENUM64',
};

const FUNC_LINKAGE = ['static', 'global', 'extern'];
const VAR_LINKAGE = ['static', 'global', 'extern'];

const q = (name: string): string => `'${name === '' ? '(anon)' : name}'`;

function intEncoding(enc: number): string {
  switch (enc) {
    case 0: return '(none)';
    case BTF_INT.SIGNED: return 'SIGNED';
    case BTF_INT.CHAR: return 'CHAR';
    case BTF_INT.BOOL: return 'BOOL';
    default: return 'UNKN';
  }
}

/** One type as bpftool prints it (no trailing newline); `btf` names a DATASEC's variables. */
export function dumpBtfType(t: BtfType, btf?: Btf): string {
  let s = `[${t.id}] ${KIND_STR[t.kind]} ${q(t.name)}`;
  switch (t.kind) {
    case 'int':
      s += ` size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${intEncoding(t.encoding)}`;
      break;
    case 'ptr': case 'const': case 'volatile': case 'restrict': case 'typedef': case 'type_tag':
      s += ` type_id=${t.type}`;
      break;
    case 'array':
      s += ` type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
      break;
    case 'struct': case 'union':
      s += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        s += `\n\t${q(m.name)} type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize !== 0) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      break;
    case 'enum': case 'enum64':
      s += ` encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t${q(v.name)} val=${v.value}`;
      break;
    case 'fwd':
      s += ` fwd_kind=${t.union ? 'union' : 'struct'}`;
      break;
    case 'func':
      s += ` type_id=${t.type} linkage=${FUNC_LINKAGE[t.linkage] ?? 'UNKN'}`;
      break;
    case 'func_proto':
      s += ` ret_type_id=${t.returnType} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t${q(p.name)} type_id=${p.type}`;
      break;
    case 'var':
      s += ` type_id=${t.type}, linkage=${VAR_LINKAGE[t.linkage] ?? 'UNKN'}`;
      break;
    case 'datasec':
      s += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size}`;
        const vt = btf?.type(v.type);
        if (vt) s += ` (${KIND_STR[vt.kind]} ${q(vt.name)})`;
      }
      break;
    case 'float':
      s += ` size=${t.size}`;
      break;
    case 'decl_tag':
      s += ` type_id=${t.type} component_idx=${t.componentIdx}`;
      break;
  }
  return s;
}

/** Every type, as `bpftool btf dump file F` prints them. */
export function dumpBtfRaw(btf: Btf): string {
  let out = '';
  for (const t of btf.types) if (t) out += `${dumpBtfType(t, btf)}\n`;
  return out;
}
