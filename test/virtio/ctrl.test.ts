// Control-queue command codec: the driver builds a command in guest memory, the device pops it
// through a real queue, parses it, answers with an ack and a result, the driver reads the reply.
import test from 'ava';
import {
  allocSplitRing, buildCtrlCommand, completeCtrlCommand, ctrlCommandBytes, DescChain, DeviceQueue, DriverQueue, GuestMemory,
  PageAllocator, parseCtrlCommand, readCtrlReply, SplitRing, VIRTIO_NET_ACK, VIRTIO_NET_CTRL, VIRTIO_NET_CTRL_EBPF,
  VIRTIO_NET_CTRL_MQ_CMD, VIRTIO_NET_CTRL_RX_CMD, VIRTIO_NET_CTRL_STATS_CMD, VirtioError,
} from '../../virtio/index.ts';

function setup() {
  const mem = GuestMemory.create(1 << 18);
  const pages = new PageAllocator(mem);
  const layout = allocSplitRing(mem, pages, 64);
  const drv = new DriverQueue<number>(mem, new SplitRing(mem, layout), { name: 'ctrlq', pages });
  const dev = new DeviceQueue(mem, new SplitRing(mem, layout), { name: 'ctrlq' });
  return { mem, pages, drv, dev, buf: pages.alloc(4096) };
}

test('class numbers, and the RFC EBPF class sharing 6 with NOTF_COAL', (t) => {
  t.deepEqual(Object.values(VIRTIO_NET_CTRL), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  t.is(VIRTIO_NET_CTRL_EBPF, 6);
  t.is(VIRTIO_NET_CTRL_EBPF, VIRTIO_NET_CTRL.VIRTIO_NET_CTRL_NOTF_COAL);
  t.deepEqual(VIRTIO_NET_ACK, { VIRTIO_NET_OK: 0, VIRTIO_NET_ERR: 1 });
});

test('round trip through a queue: command with data, ack only', (t) => {
  const { mem, drv, dev, buf } = setup();
  const req = buildCtrlCommand(mem, buf, 4096, VIRTIO_NET_CTRL.VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_CMD.VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, new Uint8Array([4, 0]));
  t.is(mem.readU8(req.ackAddr), 0xff, 'ack preset: no answer yet');
  t.is(drv.add(req.out, req.in, 1), 0);
  drv.kickPrepare();
  t.is(dev.pop(), 0);
  t.is(dev.chain.readable, 2, 'header and data in separate descriptors, as Linux sends them');
  const c = parseCtrlCommand(mem, dev.chain);
  if (c instanceof VirtioError) return t.fail(c.message);
  t.is(c.cls, 4);
  t.is(c.cmd, 0);
  t.deepEqual([...c.data], [4, 0]);
  t.is(c.resultCapacity, 0);
  const used = completeCtrlCommand(mem, c, VIRTIO_NET_ACK.VIRTIO_NET_OK);
  t.is(used, 1);
  dev.push(0, used as number);
  dev.flush();
  t.is(drv.getBuf(), 1);
  t.deepEqual(readCtrlReply(mem, req, drv.lastLen), { ack: 0, result: new Uint8Array(0) });
});

test('round trip with a command-specific result buffer after the ack', (t) => {
  const { mem, drv, dev, buf } = setup();
  const req = buildCtrlCommand(mem, buf, 4096, VIRTIO_NET_CTRL.VIRTIO_NET_CTRL_STATS, VIRTIO_NET_CTRL_STATS_CMD.VIRTIO_NET_CTRL_STATS_GET, new Uint8Array(0), 16);
  t.is(req.out.length, 1);
  t.is(req.in.length, 2);
  t.is(ctrlCommandBytes(0, 16), 19);
  drv.add(req.out, req.in, 2, false);
  drv.kickPrepare();
  t.is(dev.pop(), 0);
  const c = parseCtrlCommand(mem, dev.chain);
  if (c instanceof VirtioError) return t.fail(c.message);
  t.is(c.resultCapacity, 16);
  t.deepEqual(c.data.length, 0);
  const tooBig = completeCtrlCommand(mem, c, 0, new Uint8Array(17));
  t.true(tooBig instanceof VirtioError && tooBig.code === 'ENOSPC');
  t.is(mem.readU8(req.ackAddr), 1, 'answered ERR');
  const used = completeCtrlCommand(mem, c, VIRTIO_NET_ACK.VIRTIO_NET_OK, new Uint8Array([9, 8, 7]));
  t.is(used, 4);
  dev.push(0, 4);
  dev.flush();
  drv.getBuf();
  t.deepEqual(readCtrlReply(mem, req, drv.lastLen), { ack: 0, result: new Uint8Array([9, 8, 7]) });
});

test('the ack and result may share one writable segment; data may span many readable ones', (t) => {
  const mem = GuestMemory.create(4096);
  mem.write(100, new Uint8Array([VIRTIO_NET_CTRL.VIRTIO_NET_CTRL_RX]));
  mem.write(200, new Uint8Array([VIRTIO_NET_CTRL_RX_CMD.VIRTIO_NET_CTRL_RX_PROMISC, 1]));
  const chain = new DescChain(8);
  chain.push(100, 1, false);
  chain.push(200, 2, false);
  chain.push(300, 0, true);
  chain.push(400, 5, true);
  const c = parseCtrlCommand(mem, chain);
  if (c instanceof VirtioError) return t.fail(c.message);
  t.deepEqual([c.cls, c.cmd, ...c.data], [0, 0, 1]);
  t.is(c.ackAddr, 400, 'the first writable byte (zero-length segments skipped)');
  t.deepEqual(c.result, [{ addr: 401, len: 4 }]);
});

test('malformed control chains are error values, never exceptions', (t) => {
  const mem = GuestMemory.create(4096);
  const chain = (segs: [number, number, boolean][]) => {
    const c = new DescChain(8);
    for (const [a, l, w] of segs) c.push(a, l, w);
    return c;
  };
  const code = (c: Parameters<typeof parseCtrlCommand>[1]) => {
    const r = parseCtrlCommand(mem, c);
    return r instanceof VirtioError ? r.code : 'parsed';
  };
  t.is(code(chain([])), 'CTRL_NO_HEADER');
  t.is(code(chain([[0, 1, false], [8, 1, true]])), 'CTRL_NO_HEADER');
  t.is(code(chain([[8, 1, true]])), 'CTRL_NO_HEADER');
  t.is(code(chain([[0, 2, false]])), 'CTRL_NO_ACK');
  t.is(code(chain([[0, 2, false], [8, 0, true]])), 'CTRL_NO_ACK');
  t.is(code(chain([[0, 1, false], [1, 1, false], [8, 1, true]])), 'parsed', 'header split over two descriptors');
  t.is(code(chain([[0, 2, false], [8, 1, true], [16, 1, false]])), 'EPROTO');
  t.is(code(chain([[4095, 2, false], [8, 1, true]])), 'EFAULT');
  t.is(code({ count: 5, addr: [0], len: [2], writable: [0] }), 'EPROTO');
  t.is(code({ count: -1, addr: [], len: [], writable: [] }), 'EPROTO');
  t.is(code({ count: 1.5, addr: [0, 0], len: [2, 2], writable: [0, 1] }), 'EPROTO');
  // Random garbage: always a value.
  let seed = 7;
  const rnd = (n: number): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n;
  for (let i = 0; i < 2000; i++) {
    const n = rnd(5);
    const c = { count: n, addr: Array.from({ length: n }, () => rnd(5000)), len: Array.from({ length: n }, () => rnd(10)), writable: Array.from({ length: n }, () => rnd(2)) };
    t.notThrows(() => parseCtrlCommand(mem, c));
  }
});

test('the builder refuses what it cannot lay out', (t) => {
  const mem = GuestMemory.create(4096);
  t.is(t.throws(() => buildCtrlCommand(mem, 0, 4, 0, 0, new Uint8Array(2)), { instanceOf: VirtioError })?.code, 'ENOSPC');
  t.is(t.throws(() => buildCtrlCommand(mem, 0, 64, 256, 0, new Uint8Array(0)), { instanceOf: VirtioError })?.code, 'EINVAL');
  t.is(t.throws(() => buildCtrlCommand(mem, 4090, 64, 0, 0, new Uint8Array(8)), { instanceOf: VirtioError })?.code, 'EFAULT');
});
