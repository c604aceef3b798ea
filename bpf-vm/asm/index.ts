// The assembler (test-suite syntax), its inverse printer, and the llvm/kernel-style disassembler.
export { assemble, MNEMONICS, type AssembleOptions } from './assembler.ts';
export { toAsm, mnemonicOf } from './asm-printer.ts';
export { disassemble, disassembleInsn, type DisasmLine, type DisasmOptions } from './disassembler.ts';
