// Builds verifier test programs from assembly with maps made to order.
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { BPF_PROG_TYPE, type ProgType } from '../../bpf-vm/prog/types.ts';
import type { VerifierCase } from './cases.ts';

export function caseProgram(c: Pick<VerifierCase, 'src' | 'maps' | 'type'>): Program {
  const fds = new FdTable();
  const fdOf = new Map<string, number>();
  for (const [name, [type, keySize, valueSize, maxEntries, flags]] of Object.entries(c.maps ?? {})) {
    fdOf.set(name, fds.add(createMap({ name, type, keySize, valueSize, maxEntries, flags })));
  }
  const insns = assemble(c.src, { mapId: (n) => fdOf.get(n) });
  const type = (c.type ?? BPF_PROG_TYPE.BPF_PROG_TYPE_XDP) as ProgType;
  return { name: 'case', section: 'xdp', type, insns, funcs: [], license: 'GPL', fds };
}
