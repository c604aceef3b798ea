// The library API for users' own tests (issue 6): the offload device in-process, driven through
// its real control virtqueue with the typed builders, imported from the package as a user would.
// The example between the README markers is the README's "Testing your own offload" section word
// for word; the last test keeps the two the same.
import { GuestBpf, VirtnetBpf, XDP_FLAGS } from '../../guest/bpf/index.ts';

// README:start
import test from 'ava';
import { readFileSync } from 'node:fs';
import {
  BPF_MAP_TYPE, createDeviceModel, ebpfCmd, offloadInsns, parseElf, readU64le, u32le, u64le, XDP_ACTION,
  type EbpfMapRef,
} from 'vxo';

test('offload a map and xdp1, then read its counter', (t) => {
  // The device model in this thread: guest memory, virtio-net with the EBPF class, a control virtqueue.
  const dev = createDeviceModel();

  // MAP CREATE: an ARRAY of 256 u64 counters, like xdp1's rxcnt. The device answers with a handle.
  const spec = { mapType: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 256 };
  const created = dev.submit(ebpfCmd.createMap(spec));
  t.true(created.ok, created.text);
  const rxcnt: EbpfMapRef = { ...spec, handle: created.handle! };

  // UPDATE_ELEM, then LOOKUP_ELEM the same key.
  t.true(dev.submit(ebpfCmd.updateElem(rxcnt, u32le(6), u64le(40))).ok);
  t.is(readU64le(dev.submit(ebpfCmd.lookupElem(rxcnt, u32le(6))).data), 40n);

  // SET_OFFLOAD: xdp1 from its object file, its map reference carrying the device's handle.
  const obj = parseElf(readFileSync(new URL('../../scenarios/xdp/xdp1.o', import.meta.url)));
  const xdp1 = obj.programs.find((p) => p.name === 'xdp1')!;
  const attached = dev.submit(ebpfCmd.setOffload({ insns: offloadInsns(xdp1, { rxcnt: rxcnt.handle }), gplCompatible: true, meta: { name: 'xdp1' } }));
  t.true(attached.ok, attached.text);
  t.is(dev.show().program?.name, 'xdp1');

  // The host runs it on a frame, as the tap's Tx path would: an IPv4/UDP frame is counted and dropped.
  const frame = new Uint8Array(60);
  frame.set([0x08, 0x00], 12); // EtherType IPv4
  frame[14] = 0x45; // version 4, 20-byte header
  frame[14 + 9] = 17; // protocol UDP
  t.is(dev.runXdp(frame).action, XDP_ACTION.XDP_DROP);

  // The counter, read back over the control queue: key 17 (UDP) went from 0 to 1.
  t.is(readU64le(dev.submit(ebpfCmd.lookupElem(rxcnt, u32le(17))).data), 1n);

  // Refusals come back as VIRTIO_NET_ERR with an errno: a handle the device never gave, a key past the end.
  const badHandle = dev.submit(ebpfCmd.lookupElem({ ...rxcnt, handle: 999 }, u32le(0)));
  t.false(badHandle.ok);
  t.is(badHandle.code, 'EBADF');
  t.is(dev.submit(ebpfCmd.lookupElem(rxcnt, u32le(256))).code, 'ENOENT');
});
// README:end

test('the example went through the control virtqueue, not around it', (t) => {
  const dev = createDeviceModel();
  const spec = { mapType: BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 2 };
  const m: EbpfMapRef = { ...spec, handle: dev.submit(ebpfCmd.createMap(spec)).handle! };
  t.true(dev.submit(ebpfCmd.updateElem(m, u32le(1), u64le(7))).ok);
  // Each submit is one chain on the control queue, answered by QEMU's virtio_net_handle_ctrl.
  t.is(dev.stats.commands, 2);
  t.is(dev.net.stats.ctrl_commands, 2);
  t.is(dev.ebpf.stats.commands, 2);
  // The host map holds what the guest sent.
  t.is(readU64le(dev.hostMap(m.handle)!.map.lookup(u32le(1))!), 7n);
  // A full HASH map: E2BIG, and the reason as text.
  t.true(dev.submit(ebpfCmd.updateElem(m, u32le(2), u64le(8))).ok);
  const full = dev.submit(ebpfCmd.updateElem(m, u32le(3), u64le(9)));
  t.is(full.ack, 1);
  t.is(full.code, 'E2BIG');
  t.regex(full.text, /UPDATE_ELEM/);
  // Not offered: no program, runXdp refuses.
  t.throws(() => dev.runXdp(new Uint8Array(60)), { code: 'ENOENT' });
  // A malformed command (a MAP header cut short) is an answer too: EINVAL, nothing created.
  const short = dev.submit({ ...ebpfCmd.createMap(spec), data: new Uint8Array(12) });
  t.is(short.code, 'EINVAL');
  t.is(dev.show().maps.length, 1);
  // An unknown class is answered VIRTIO_NET_ERR by the device model, without a result.
  t.is(dev.send(0x7f, 0, new Uint8Array(1), 16).ack, 1);
});

test('the guest BPF layer runs over the device model: xdp1.o offloaded, the same map from guest and host', (t) => {
  const dev = createDeviceModel();
  const netdev = new VirtnetBpf({ name: 'eth0', ctrl: dev, features: dev.features });
  const bpf = new GuestBpf();
  const ifindex = bpf.registerNetdev(netdev);
  const obj = bpf.loadObjectForOffload(readFileSync(new URL('../../scenarios/xdp/xdp1.o', import.meta.url)), ifindex);
  bpf.xdpAttach(ifindex, obj.progFd, XDP_FLAGS.XDP_FLAGS_HW_MODE);
  t.is(dev.show().program?.name, 'xdp1');
  const frame = new Uint8Array(60);
  frame.set([0x86, 0xdd], 12); // IPv6
  frame[14] = 0x60;
  frame[14 + 6] = 58; // next header ICMPv6
  for (let i = 0; i < 3; i++) t.is(dev.runXdp(frame).action, XDP_ACTION.XDP_DROP);
  const fd = obj.maps.get('rxcnt')!;
  // The guest's lookup is a LOOKUP_ELEM on the host map: both see 3.
  t.is(readU64le(bpf.mapLookupElem(fd, u32le(58))!), 3n);
  const host = dev.show().maps.find((m) => m.name === 'rxcnt')!;
  t.is(readU64le(host.entries![58]!.value), 3n);
});

test("README's library example is this file's example, word for word", (t) => {
  const text = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');
  const mine = /\/\/ README:start\n([\s\S]*?)\/\/ README:end\n/.exec(text('./library.test.ts'))?.[1];
  t.truthy(mine);
  const readme = text('../../README.md');
  const block = /<!-- library-example:start -->\n```ts\n([\s\S]*?)```\n<!-- library-example:end -->/.exec(readme)?.[1];
  t.truthy(block, "README.md has no library example between <!-- library-example:start --> and <!-- library-example:end --> (draft: tmp/readme-library.md)");
  t.is(block, mine);
});
