// QEMU over a tap whose tun lacks TUNSETOFFLOADEDXDP (a host before the offload RFC: vhost reads
// the tap's ptr_ring itself), in one thread: the real guest driver and BPF layer, the real device
// model (VirtioNet + the EBPF class) behind the control queue. SET_OFFLOAD is refused with
// VIRTIO_NET_ERR and EOPNOTSUPP before anything reaches the tap; the guest's error carries QEMU's
// words; the driver then takes the program natively (the `xdpoffload || xdpdrv` fallback); maps and
// the other commands still reach the device model. With the RFC's tun, the program reaches the tap.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { ERRNO } from '../../bpf-vm/index.ts';
import { VIRTIO_NET_CTRL_EBPF, VIRTIO_NET_F_VXO, VirtioNetEbpf } from '../../host/offload/index.ts';
import { EbpfOverTap, TUN_NO_OFFLOADED_XDP, type TunProbe } from '../../host/qemu/tap-offload.ts';
import { GuestBpf, GuestBpfError, VirtnetBpf, XDP_FLAGS } from '../../guest/bpf/index.ts';
import { readEbpfReply, VIRTIO_NET_BPF_PROG_CMD, VIRTIO_NET_CTRL_EBPF_CMD } from '../../virtio/index.ts';
import { makeRig } from '../guest/rig.ts';

const XDP1 = fileURLToPath(new URL('../../scenarios/xdp/xdp1.o', import.meta.url));
const OFFLOAD_BITS = [VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_OFFLOAD, VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_META];

function machine(tun: TunProbe) {
  const events: string[] = [];
  const ebpf = new VirtioNetEbpf({ listener: { onAttach: (p) => { events.push(`attach ${p.name}`); }, onDetach: () => { events.push('detach'); } } });
  const overTap = new EbpfOverTap(ebpf, tun);
  const r = makeRig({ device: { extraFeatures: OFFLOAD_BITS }, driver: { extraFeatures: OFFLOAD_BITS } });
  r.net.setCtrlHandler(VIRTIO_NET_CTRL_EBPF, overTap);
  const native: { prog: unknown } = { prog: null };
  const bpf = new GuestBpf();
  const ifindex = bpf.registerNetdev(new VirtnetBpf({ ctrl: r.driver, features: r.driver.features, setNativeXdp: (p) => { native.prog = p; } }));
  return { r, ebpf, overTap, bpf, ifindex, events, native };
}

test('a tun without TUNSETOFFLOADEDXDP: SET_OFFLOAD refused (EOPNOTSUPP, QEMU\'s words), nothing reaches the tap, the driver takes it natively', (t) => {
  const m = machine({ offloadedXdp: false });
  const obj = m.bpf.loadObjectForOffload(XDP1, m.ifindex);
  const e = t.throws(() => m.bpf.xdpAttach(m.ifindex, obj.progFd, XDP_FLAGS.XDP_FLAGS_HW_MODE));
  t.true(e instanceof GuestBpfError);
  t.is((e as GuestBpfError).code, 'EOPNOTSUPP', 'the code the guest worker falls back on');
  t.true(e!.message.includes(TUN_NO_OFFLOADED_XDP), e!.message);
  t.deepEqual(m.events, [], 'the tap never saw a program');
  t.is(m.overTap.stats.set_offload_refused, 1);
  t.is(m.overTap.lastRefusal, TUN_NO_OFFLOADED_XDP);
  t.is(m.ebpf.program, undefined);
  t.true(m.ebpf.stats.ok > 0, 'the maps were created on the device as usual');
  t.is(m.ebpf.stats.internal_errors, 0);
  t.true(m.r.net.stats.ctrl_err >= 1);
  // `ip link set dev eth0 xdpdrv obj ...`: the same object, in the driver.
  const nat = m.bpf.loadObject(XDP1);
  m.bpf.xdpAttach(m.ifindex, nat.progFd, XDP_FLAGS.XDP_FLAGS_DRV_MODE);
  t.not(m.native.prog, null);
});

test('the other commands are the device model\'s: UNSET_OFFLOAD with nothing offloaded is ENOENT, a malformed PROG is EINVAL', (t) => {
  const m = machine({ offloadedXdp: false });
  const PROG = VIRTIO_NET_CTRL_EBPF_CMD.VIRTIO_NET_CTRL_EBPF_PROG;
  const unset = new Uint8Array(8);
  new DataView(unset.buffer).setUint16(4, VIRTIO_NET_BPF_PROG_CMD.VIRTIO_NET_BPF_CMD_UNSET_OFFLOAD, true);
  const a = readEbpfReply(m.overTap.handle(PROG, unset, 256));
  t.false(a.ok);
  t.is(a.errno, ERRNO.ENOENT);
  const b = readEbpfReply(m.overTap.handle(PROG, new Uint8Array(3), 256));
  t.is(b.errno, ERRNO.EINVAL);
  t.is(m.overTap.stats.set_offload_refused, 0);
  t.is(m.ebpf.stats.commands, 2);
});

test('the RFC\'s tun: the program reaches the tap', (t) => {
  const m = machine({ offloadedXdp: true });
  const obj = m.bpf.loadObjectForOffload(XDP1, m.ifindex);
  m.bpf.xdpAttach(m.ifindex, obj.progFd, XDP_FLAGS.XDP_FLAGS_HW_MODE);
  t.deepEqual(m.events, ['attach xdp1']);
  t.is(m.overTap.stats.set_offload_refused, 0);
  t.is(m.ebpf.program?.name, 'xdp1');
});
