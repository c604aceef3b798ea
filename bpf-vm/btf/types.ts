// BTF type records (include/uapi/linux/btf.h layout), decoded into plain objects.

export const BTF_MAGIC = 0xeb9f;

export const BTF_KIND = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

interface Base {
  /** Type id (1-based; 0 is void). */
  id: number;
  /** Byte offset of the record in the BTF blob, for error messages. */
  at: number;
  /** '' for anonymous types. */
  name: string;
}

export interface BtfInt extends Base { kind: 'int'; size: number; encoding: number; bitOffset: number; bits: number }
export interface BtfFloat extends Base { kind: 'float'; size: number }
/** Kinds that only point at another type. */
export interface BtfRef extends Base { kind: 'ptr' | 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag'; type: number }
export interface BtfArray extends Base { kind: 'array'; type: number; indexType: number; nelems: number }
export interface BtfMember { name: string; type: number; bitOffset: number; bitfieldSize: number }
export interface BtfComposite extends Base { kind: 'struct' | 'union'; size: number; members: BtfMember[] }
export interface BtfEnum extends Base { kind: 'enum' | 'enum64'; size: number; signed: boolean; values: { name: string; value: bigint }[] }
export interface BtfFwd extends Base { kind: 'fwd'; union: boolean }
export interface BtfFunc extends Base { kind: 'func'; type: number; linkage: number }
export interface BtfFuncProto extends Base { kind: 'func_proto'; returnType: number; params: { name: string; type: number }[] }
export interface BtfVar extends Base { kind: 'var'; type: number; linkage: number }
export interface BtfVarSecinfo { type: number; offset: number; size: number }
export interface BtfDatasec extends Base { kind: 'datasec'; size: number; vars: BtfVarSecinfo[] }
export interface BtfDeclTag extends Base { kind: 'decl_tag'; type: number; componentIdx: number }

export type BtfType =
  | BtfInt
  | BtfFloat
  | BtfRef
  | BtfArray
  | BtfComposite
  | BtfEnum
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfDeclTag;
