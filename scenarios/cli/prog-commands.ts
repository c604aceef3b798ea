// `vxo prog ...`: bpftool's prog verify, dump and run, for objects clang built. Only the commands
// and their options live here; what they do is loaded when one runs (prog-actions.ts), so that
// `vxo --help` or another command never loads the eBPF engine.
import type { Command } from 'commander';

const OBJ = 'ELF object built with clang -O2 -g -target bpf';
const actions = (): Promise<typeof import('./prog-actions.ts')> => import('./prog-actions.ts');

export function registerProgCommands(program: Command): void {
  const prog = program.command('prog').description('inspect and run BPF programs from clang-built objects (like bpftool prog)');

  prog.command('verify')
    .description('run the verifier and print its log (exit 0 accepted, 1 rejected, 2 usage or load error)')
    .argument('<obj>', OBJ)
    .option('--section <name>', 'program (function or section name); default: every program')
    .option('--log-level <n>', '1: the path to an error; 2: every instruction\'s state', '1')
    .action(async (obj: string, o: { section?: string; logLevel: string }) => { (await actions()).progVerify(obj, o); });

  prog.command('dump')
    .description('print the object\'s maps and the program\'s instructions')
    .argument('<obj>', OBJ)
    .option('--section <name>', 'program (function or section name); default: the first program')
    .action(async (obj: string, o: { section?: string }) => { (await actions()).progDump(obj, o); });

  prog.command('jit-dump')
    .description('print the JavaScript the JIT generates for the program (after verifying it)')
    .argument('<obj>', OBJ)
    .option('--section <name>', 'program (function or section name); default: the first program')
    .option('--no-verify', 'generate without the verifier\'s facts (every access keeps its check)')
    .action(async (obj: string, o: { section?: string; verify: boolean }) => { (await actions()).progJitDump(obj, o); });

  prog.command('run')
    .description('run a program on a packet, like bpftool prog run (BPF_PROG_TEST_RUN)')
    .argument('<obj>', OBJ)
    .option('--section <name>', 'program (function or section name); default: the first program')
    .requiredOption('--data-in <file>', 'the packet (raw bytes from the Ethernet header on)')
    .option('--data-out <file>', 'where to write the packet after the run')
    .option('--repeat <n>', 'run the program N times on the same buffer', '1')
    .option('--engine <name>', 'execution engine (interp, jit); default: jit, or interp with --no-verify')
    .option('--json', 'print one JSON object with the result and every map')
    .option('--no-verify', 'run without verifying: the interpreter\'s bounds checks are the only guard')
    .action(async (obj: string, o: import('./prog-actions.ts').RunFlags) => { (await actions()).progRun(obj, o); });
}
