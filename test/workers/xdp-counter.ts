// A worker running a BPF program whose only work is `lock *(u64 *)(r0 + 0) += r1` on a shared
// ARRAY value, with an addend that makes the low word carry on every other add.
import { parentPort, workerData } from 'node:worker_threads';
import type { EngineName } from '../../bpf-vm/engines.ts';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import type { SharedMapState } from '../../bpf-vm/maps/shared.ts';
import { XdpProgramRunner } from '../../bpf-vm/prog/xdp-runner.ts';
import { asmXdp } from '../support/vm.ts';
import { waitForStart } from './spawn.ts';

const { state, control, runs, engine, addend } = workerData as { state: SharedMapState; control: Int32Array; runs: number; engine: EngineName; addend: number };
const map = openSharedMap(state);
const prog = asmXdp([
  'stw [%r10-4], 0', 'mov %r2, %r10', 'add %r2, -4', 'lddw %r1, map_by_fd(counter)', 'call 1',
  'jeq %r0, 0, out', `mov32 %r1, ${addend}`, 'lock add [%r0+0], %r1', 'out:', 'mov %r0, 1', 'exit',
].join('\n'), { counter: map });
const runner = new XdpProgramRunner(prog, { engine });
runner.xdp.prepare(new Uint8Array(4096), 0, 4096, 256, 64);
parentPort!.postMessage('ready');
waitForStart(control);
for (let i = 0; i < runs; i++) runner.run();
parentPort!.postMessage('done');
