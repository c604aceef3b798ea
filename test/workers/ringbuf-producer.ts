// A worker running an XDP program that copies the frame's first 28 bytes into a ringbuf record
// (reserve, copy, submit). The frame carries the producer id, a sequence number and a pattern
// derived from both; a full ring makes the program return XDP_DROP and the worker retries.
import { parentPort, workerData } from 'node:worker_threads';
import type { EngineName } from '../../bpf-vm/engines.ts';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import type { SharedMapState } from '../../bpf-vm/maps/shared.ts';
import { XdpProgramRunner } from '../../bpf-vm/prog/xdp-runner.ts';
import { asmXdp } from '../support/vm.ts';
import { ringbufRecord } from './ringbuf-records.ts';
import { waitForStart } from './spawn.ts';

const { state, control, id, records, engine } = workerData as {
  state: SharedMapState; control: Int32Array; id: number; records: number; engine: EngineName;
};
const rb = openSharedMap(state);
const prog = asmXdp(`
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r4, %r2
  add %r4, 28
  jgt %r4, %r3, drop
  mov %r6, %r2
  lddw %r1, map_by_fd(rb)
  mov %r2, 28
  mov %r3, 0
  call 131
  jeq %r0, 0, drop
  ldxdw %r1, [%r6+0]
  stxdw [%r0+0], %r1
  ldxdw %r1, [%r6+8]
  stxdw [%r0+8], %r1
  ldxdw %r1, [%r6+16]
  stxdw [%r0+16], %r1
  ldxw %r1, [%r6+24]
  stxw [%r0+24], %r1
  mov %r1, %r0
  mov %r2, 0
  call 132
  mov %r0, 2
  exit
drop:
  mov %r0, 1
  exit`, { rb });
const runner = new XdpProgramRunner(prog, { engine });
const buf = new Uint8Array(4096);
runner.xdp.prepare(buf, 0, 4096, 256, 64);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
parentPort!.postMessage('ready');
waitForStart(control);
let full = 0;
for (let seq = 0; seq < records; seq++) {
  buf.set(ringbufRecord(id, seq), 256);
  while (runner.run() !== 2) {
    full++;
    Atomics.wait(sleeper, 0, 0, 0.05);
  }
}
parentPort!.postMessage({ full });
