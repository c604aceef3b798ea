// A worker consuming a ringbuf with RingBufConsumer.poll until every producer's records arrived;
// reports records out of order, torn or of the wrong size.
import { parentPort, workerData } from 'node:worker_threads';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import { RingBufConsumer } from '../../bpf-vm/maps/ringbuf-consumer.ts';
import type { SharedMapState } from '../../bpf-vm/maps/shared.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import { ringbufRecord } from './ringbuf-records.ts';
import { waitForStart } from './spawn.ts';

const { state, control, producers, records } = workerData as {
  state: SharedMapState; control: Int32Array; producers: number; records: number;
};
const consumer = new RingBufConsumer(openSharedMap(state));
const next = new Array<number>(producers).fill(0);
const errors: string[] = [];
let polls = 0;
parentPort!.postMessage('ready');
waitForStart(control);
const deadline = Date.now() + 60_000;
while (next.some((n) => n < records) && Date.now() < deadline && errors.length < 10) {
  polls++;
  consumer.poll(5, (s) => {
    if (s.length !== 28) { errors.push(`record of ${s.length} bytes`); return; }
    const dv = new DataView(s.buffer, s.byteOffset);
    const id = dv.getUint32(0, true), seq = dv.getUint32(4, true);
    if (id >= producers) { errors.push(`producer id ${id}`); return; }
    if (seq !== next[id]) errors.push(`producer ${id}: seq ${seq}, expected ${next[id]}`);
    if (toHex(s) !== toHex(ringbufRecord(id, seq))) errors.push(`producer ${id} seq ${seq}: torn record ${toHex(s)}`);
    next[id] = seq + 1;
  });
}
parentPort!.postMessage({ errors, received: next, polls, left: consumer.available() });
