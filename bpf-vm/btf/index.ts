// BTF: parsing a blob and reading BTF-defined map definitions out of it.
export { Btf, parseBtf } from './btf.ts';
export { btfMapDefs, type BtfMapDef } from './maps.ts';
export * from './types.ts';
