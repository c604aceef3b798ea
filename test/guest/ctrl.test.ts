// virtnet_send_command through the real control queue to the real device model, one thread: the
// waitCtrl strategy runs the device's handler, as QEMU would on the kick.
import test from 'ava';
import {
  Doorbell, VIRTIO_NET_ACK, VIRTIO_NET_CTRL, VIRTIO_NET_CTRL_MAC_CMD, VIRTIO_NET_CTRL_RX_CMD, VIRTIO_NET_F,
} from '../../virtio/index.ts';
import { type CtrlChannel, ctrlWaitOnDoorbell, VirtnetError } from '../../guest/virtio-net/index.ts';
import { makeRig } from './rig.ts';

const { VIRTIO_NET_OK: OK, VIRTIO_NET_ERR: ERR } = VIRTIO_NET_ACK;

/** QEMU's side of a kick: answer, interrupt if asked (handleCtrl re-arms kicks itself). */
function qemuAnswers(r: ReturnType<typeof makeRig>, irq: Doorbell): void {
  if (r.net.handleCtrl()) irq.ring();
}

test('the driver is a CtrlChannel', (t) => {
  const r = makeRig();
  const ch: CtrlChannel = r.driver;
  t.is(typeof ch.send, 'function');
});

test('an unknown class gets VIRTIO_NET_ERR through the queue', (t) => {
  const r = makeRig();
  const reply = r.driver.send(0x7f, 3, new Uint8Array([1, 2, 3]), 0);
  t.deepEqual(reply, { ack: ERR, result: new Uint8Array(0) });
  t.is(r.net.stats.ctrl_unknown_class, 1);
  t.is(r.net.stats.ctrl_malformed, 0, 'the chain itself was well formed');
  t.is(r.kicks[2], 1, 'the control queue was kicked');
  const s = r.driver.virtnet_get_stats();
  t.is(s.ctrl_commands, 1);
  t.is(s.ctrl_err, 1);
});

test('RX promisc off then on, MAC address set: OK and the device changes', (t) => {
  const r = makeRig({ driver: { extraFeatures: [VIRTIO_NET_F.VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F.VIRTIO_NET_F_CTRL_MAC_ADDR] } });
  const rx = VIRTIO_NET_CTRL.VIRTIO_NET_CTRL_RX;
  t.is(r.driver.send(rx, VIRTIO_NET_CTRL_RX_CMD.VIRTIO_NET_CTRL_RX_PROMISC, new Uint8Array([0]), 0).ack, OK);
  t.false(r.net.promisc);
  t.is(r.driver.virtnet_send_command(rx, VIRTIO_NET_CTRL_RX_CMD.VIRTIO_NET_CTRL_RX_PROMISC, new Uint8Array([1]), 0).ack, OK);
  t.true(r.net.promisc);
  t.is(r.driver.send(rx, VIRTIO_NET_CTRL_RX_CMD.VIRTIO_NET_CTRL_RX_PROMISC, new Uint8Array([2]), 0).ack, ERR, 'not a boolean');
  const mac = new Uint8Array([2, 1, 2, 3, 4, 5]);
  t.is(r.driver.send(VIRTIO_NET_CTRL.VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_CMD.VIRTIO_NET_CTRL_MAC_ADDR_SET, mac, 0).ack, OK);
  t.deepEqual(r.net.mac, mac);
  const s = r.driver.virtnet_get_stats();
  t.is(s.ctrl_ok, 3);
  t.is(s.ctrl_err, 1);
});

test('a command-specific result comes back; large commands grow the buffer', (t) => {
  const r = makeRig();
  const seen: number[] = [];
  r.net.setCtrlHandler(9, {
    handle: (cmd, data) => {
      seen.push(data.length);
      const out = new Uint8Array(8);
      new DataView(out.buffer).setUint32(0, data.length, true);
      out[4] = cmd;
      out[5] = data[data.length - 1] ?? 0;
      return { ack: OK, result: out };
    },
  });
  const small = r.driver.send(9, 1, new Uint8Array([7]), 8);
  t.is(small.ack, OK);
  t.deepEqual([...small.result], [1, 0, 0, 0, 1, 7, 0, 0]);
  // A program offload carries up to 4096 instructions: 32 KiB plus its header.
  const big = new Uint8Array(8 + 4096 * 8).fill(0x5a);
  big[big.length - 1] = 0x99;
  const reply = r.driver.send(9, 2, big, 8);
  t.is(reply.ack, OK);
  t.is(new DataView(reply.result.buffer).getUint32(0, true), big.length);
  t.is(reply.result[5], 0x99);
  t.deepEqual(seen, [1, big.length]);
  t.is(r.driver.send(9, 3, new Uint8Array(0), 4).ack, ERR, 'a result larger than the guest gave: ERR');
});

test('without a waitCtrl strategy send() refuses (EINVAL) before touching the queue', (t) => {
  const r = makeRig({ driver: { waitCtrl: undefined } });
  const e = t.throws(() => r.driver.send(0, 0, new Uint8Array([1]), 0), { instanceOf: VirtnetError });
  t.is(e?.code, 'EINVAL');
  t.is(r.kicks[2], 0);
});

test('waiting on the interrupt doorbell: a device that never answers gives ETIMEDOUT; its late answer is not reused', (t) => {
  const irq = Doorbell.create();
  let answering = false;
  const r = makeRig({
    driver: { waitCtrl: ctrlWaitOnDoorbell(irq, 30) },
    onKick: (q) => { if (q === 2 && answering) qemuAnswers(r, irq); },
  });
  const t0 = performance.now();
  const e = t.throws(() => r.driver.send(0x7f, 0, new Uint8Array(0), 0), { instanceOf: VirtnetError });
  t.is(e?.code, 'ETIMEDOUT');
  t.true(performance.now() - t0 >= 25);
  // The abandoned command still owns the buffer: no new command until the device answers it...
  t.is(t.throws(() => r.driver.send(0, 0, new Uint8Array([1]), 0), { instanceOf: VirtnetError })?.code, 'EBUSY');
  t.true(r.net.handleCtrl(), 'the late answer (ERR) interrupts');
  // ...and that answer is not taken for the next command's.
  answering = true;
  const promisc = r.driver.send(VIRTIO_NET_CTRL.VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_CMD.VIRTIO_NET_CTRL_RX_PROMISC, new Uint8Array([0]), 0);
  t.is(promisc.ack, OK);
  t.false(r.net.promisc);
});

test('waiting on the interrupt doorbell: an answer that already arrived is seen without sleeping', (t) => {
  const irq = Doorbell.create();
  // The device answers inside the kick, before the driver starts waiting: the re-check after
  // arming must find it (a sleep here would be a lost wake-up and time out).
  const r = makeRig({
    driver: { waitCtrl: ctrlWaitOnDoorbell(irq, 5000) },
    onKick: (q) => { if (q === 2) qemuAnswers(r, irq); },
  });
  t.is(r.driver.send(0x7f, 0, new Uint8Array(0), 0).ack, ERR);
  t.is(irq.sleeps, 0, 'answered during the kick: the driver never slept toward its 5 s timeout');
});
