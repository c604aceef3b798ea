// What `vxo btf ...` does (btf-commands.ts has the options). Loaded only when a btf command runs.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseBtf } from '../../bpf-vm/btf/btf.ts';
import { dumpBtfC } from '../../bpf-vm/btf/btf-dump-c.ts';
import { dumpBtfRaw } from '../../bpf-vm/btf/btf-dump-raw.ts';
import { btfBytesOf } from '../../bpf-vm/btf/btf-file.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import { UsageError } from './errors.ts';

export interface BtfDumpFlags {
  format: string;
  file?: string;
  btfOut?: string;
}

/** The text `vxo btf dump` prints for these flags. */
export function btfDumpText(o: BtfDumpFlags): string {
  if (o.format !== 'raw' && o.format !== 'c') throw new UsageError(`unrecognized format specifier: '${o.format}', possible values: raw, c`);
  let blob: Uint8Array;
  if (o.file === undefined) {
    blob = kernelBtf().blob;
  } else {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(o.file);
    } catch (e) {
      throw new UsageError(`failed to load BTF from ${o.file}: ${(e as Error).message}`);
    }
    blob = btfBytesOf(bytes, o.file);
  }
  if (o.btfOut !== undefined) writeFileSync(o.btfOut, blob);
  const btf = parseBtf(blob, o.file ?? 'vxo kernel BTF');
  return o.format === 'c' ? dumpBtfC(btf) : dumpBtfRaw(btf);
}

export function btfDump(o: BtfDumpFlags): void {
  process.stdout.write(btfDumpText(o));
}
