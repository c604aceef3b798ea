// struct bpf_insn: u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm (little-endian, as clang emits for -target bpf).
import { BPF_INSN_SIZE } from './opcodes.ts';
import { BpfError } from '../errors.ts';

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export function insn(code: number, dst = 0, src = 0, off = 0, imm = 0): Insn {
  return { code, dst, src, off, imm };
}

/** Decodes raw bytes into instruction slots; an ld_imm64 keeps its two slots, as in the kernel. */
export function decodeInsns(bytes: Uint8Array, where = 'program'): Insn[] {
  if (bytes.byteLength % BPF_INSN_SIZE !== 0) {
    throw new BpfError('EINVAL', `${where}: length ${bytes.byteLength} is not a multiple of ${BPF_INSN_SIZE}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = new Array<Insn>(bytes.byteLength / BPF_INSN_SIZE);
  for (let i = 0, o = 0; o < bytes.byteLength; i++, o += BPF_INSN_SIZE) {
    const regs = dv.getUint8(o + 1);
    out[i] = {
      code: dv.getUint8(o),
      dst: regs & 0x0f,
      src: regs >>> 4,
      off: dv.getInt16(o + 2, true),
      imm: dv.getInt32(o + 4, true),
    };
  }
  return out;
}

export function encodeInsns(insns: readonly Insn[]): Uint8Array {
  const bytes = new Uint8Array(insns.length * BPF_INSN_SIZE);
  const dv = new DataView(bytes.buffer);
  insns.forEach((ins, i) => {
    const o = i * BPF_INSN_SIZE;
    dv.setUint8(o, ins.code & 0xff);
    dv.setUint8(o + 1, ((ins.src & 0x0f) << 4) | (ins.dst & 0x0f));
    dv.setInt16(o + 2, ins.off, true);
    dv.setInt32(o + 4, ins.imm | 0, true);
  });
  return bytes;
}

/** The 64-bit immediate of an ld_imm64 pair as a BigInt (cold paths: printing, relocation). */
export function ldImm64Value(first: Insn, second: Insn): bigint {
  return (BigInt(second.imm >>> 0) << 32n) | BigInt(first.imm >>> 0);
}
