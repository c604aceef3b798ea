// `vxo btf ...`: bpftool's btf dump, for vxo's kernel BTF (what /sys/kernel/btf/vmlinux is to a
// Linux machine) or the BTF of a file. The actions load only when a btf command runs (btf-actions.ts).
import type { Command } from 'commander';

const DUMP_HELP = `
Output (as bpftool btf dump file F [format c]):
  [1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED
  --format c: a vmlinux.h (types with preserve_access_index for CO-RE, then the kfuncs as
  "extern ... __weak __ksym;" unless the program defines BPF_NO_KFUNC_PROTOTYPES)

Examples:
  vxo btf dump --format c > vmlinux.h
  vxo btf dump --btf-out vxo.btf && bpftool btf dump file vxo.btf
  vxo btf dump --file prog.o`;

const actions = (): Promise<typeof import('./btf-actions.ts')> => import('./btf-actions.ts');

export function registerBtfCommands(program: Command): void {
  const btf = program.command('btf').description('inspect BTF: vxo\'s kernel BTF (its vmlinux) or a file\'s (like bpftool btf)');

  btf.command('dump')
    .description('print the types of vxo\'s kernel BTF (or of --file) as bpftool btf dump does, raw or as C (a vmlinux.h)')
    .option('--format <fmt>', 'raw (one line per type) or c (a vmlinux.h)', 'raw')
    .option('--file <path>', 'dump this file\'s BTF instead: a raw BTF blob or an ELF object with a .BTF section')
    .option('--btf-out <path>', 'also write the raw BTF blob there (vxo\'s /sys/kernel/btf/vmlinux)')
    .addHelpText('after', DUMP_HELP)
    .action(async (o: import('./btf-actions.ts').BtfDumpFlags) => { (await actions()).btfDump(o); });
}
