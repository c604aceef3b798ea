// Offloaded programs running on the host side (as the tap's Tx path would run them) on fixed
// traffic, on both engines: the maps read from the guest over the control queue equal the host's
// dump, and equal what the same program counts when it runs natively in the guest.
import test from 'ava';
import { dumpMap, ENGINES, toHex, XDP_ACTION } from '../../bpf-vm/index.ts';
import { openOffloadedProgram, type OffloadedProgramTransfer } from '../../host/offload/index.ts';
import { XDP_FLAGS } from '../../guest/bpf/index.ts';
import { arpFrame, icmp4EchoFrame, tcp6Frame, truncate, udp4Frame, udp64 } from '../support/packets.ts';
import { FIXTURES, readU64, runFrames, u32, u64, world, XDP_DIR } from './support.ts';

const HW = XDP_FLAGS.XDP_FLAGS_HW_MODE;

/** A fixed mix: 7 UDP, 3 ICMP, 2 TCPv6, 1 ARP, 1 cut IPv4 header (counts as 0), 1 cut Ethernet header (not counted). */
function traffic(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 7; i++) out.push(udp64({ seq: i }));
  for (let i = 0; i < 3; i++) out.push(icmp4EchoFrame());
  out.push(tcp6Frame(), tcp6Frame(), arpFrame(), truncate(udp64(), 20), truncate(udp64(), 10));
  return out;
}

const hexEntries = (entries: { key: Uint8Array; value: Uint8Array }[]): string[][] => entries.map((e) => [toHex(e.key), toHex(e.value)]);

for (const engine of ENGINES) {
  test(`${engine}: xdp1 offloaded counts on the host; guest lookups and GET_NEXT walk = host dump = native run`, (t) => {
    const w = world();
    const o = w.bpf.loadObjectForOffload(`${XDP_DIR}xdp1.o`, w.ifindex);
    w.bpf.xdpAttach(w.ifindex, o.progFd, HW);
    const prog = w.tap.prog!;
    const actions = runFrames(prog.program, traffic(), engine, prog.verified);
    t.true(actions.every((a) => a === XDP_ACTION.XDP_DROP));

    const fd = o.maps.get('rxcnt')!;
    t.is(readU64(w.bpf.mapLookupElem(fd, u32(17))), 7n);
    t.is(readU64(w.bpf.mapLookupElem(fd, u32(1))), 3n);
    t.is(readU64(w.bpf.mapLookupElem(fd, u32(6))), 2n);
    t.is(readU64(w.bpf.mapLookupElem(fd, u32(0))), 2n, 'ARP and the cut IPv4 header');
    const fromGuest = hexEntries(w.bpf.mapDump(fd));
    const fromHost = hexEntries(dumpMap(prog.maps[0]!.map));
    t.is(fromGuest.length, 256);
    t.deepEqual(fromGuest, fromHost);
    t.deepEqual(hexEntries(w.host.show().maps[0]!.entries!), fromHost);

    // The same program natively in the guest, same frames: the same counters.
    const n = world();
    const local = n.bpf.loadObject(`${XDP_DIR}xdp1.o`);
    n.bpf.xdpAttach(n.ifindex, local.progFd, XDP_FLAGS.XDP_FLAGS_DRV_MODE);
    t.deepEqual(runFrames(n.native.prog!.program, traffic(), engine), actions);
    t.deepEqual(hexEntries(n.bpf.mapDump(local.maps.get('rxcnt')!)), fromGuest);
    t.is(n.link.stats.chains, 0, 'the native run never used the control queue');
  });

  test(`${engine}: xdp2 offloaded bounces UDP (XDP_TX), and the guest resets a counter the host then increments`, (t) => {
    const w = world();
    const o = w.bpf.loadObjectForOffload(`${XDP_DIR}xdp2.o`, w.ifindex);
    w.bpf.xdpAttach(w.ifindex, o.progFd, HW);
    const fd = o.maps.get('rxcnt')!;
    w.bpf.mapUpdateElem(fd, u32(17), u64(100));
    const prog = w.tap.prog!;
    t.deepEqual(runFrames(prog.program, [udp64(), icmp4EchoFrame(), udp64()], engine, prog.verified), [XDP_ACTION.XDP_TX, XDP_ACTION.XDP_DROP, XDP_ACTION.XDP_TX]);
    t.is(readU64(w.bpf.mapLookupElem(fd, u32(17))), 102n);
    t.is(readU64(w.bpf.mapLookupElem(fd, u32(1))), 1n);
  });

  test(`${engine}: a HASH map, a .bss global and a constant (offload_mix): guest and host agree`, (t) => {
    const w = world();
    const o = w.bpf.loadObjectForOffload(`${FIXTURES}offload_mix.o`, w.ifindex);
    w.bpf.xdpAttach(w.ifindex, o.progFd, HW);
    const prog = w.tap.prog!;
    const frames = [
      udp4Frame({ ip: { src: '10.0.0.1' } }), udp4Frame({ ip: { src: '10.0.0.2' } }), udp4Frame({ ip: { src: '10.0.0.1' } }),
      udp4Frame({ ip: { src: '10.0.0.3' }, eth: { src: '55:44:33:22:11:00' } }), // the blocked MAC (the constant's low 48 bits)
      tcp6Frame(),
    ];
    t.deepEqual(runFrames(prog.program, frames, engine, prog.verified), [2, 2, 2, XDP_ACTION.XDP_DROP, 2]);
    const flows = o.maps.get('flows')!;
    t.is(readU64(w.bpf.mapLookupElem(flows, new Uint8Array([10, 0, 0, 1]))), 2n);
    t.is(readU64(w.bpf.mapLookupElem(flows, new Uint8Array([10, 0, 0, 2]))), 1n);
    t.is(t.throws(() => w.bpf.mapLookupElem(flows, new Uint8Array([10, 0, 0, 3])))?.message.includes('ENOENT'), true);
    t.is(readU64(w.bpf.mapLookupElem(o.maps.get('.bss')!, u32(0))), 5n, 'every frame counted in the global');
    const hostFlows = w.host.show().maps.find((m) => m.name === 'flows')!;
    const sort = (x: string[][]): string[][] => [...x].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    t.deepEqual(sort(hexEntries(w.bpf.mapDump(flows))), sort(hexEntries(hostFlows.entries!)));
  });

  test(`${engine}: the program crosses to another worker as plain data (transfer), sharing the maps`, (t) => {
    const w = world();
    const o = w.bpf.loadObjectForOffload(`${XDP_DIR}xdp1.o`, w.ifindex);
    w.bpf.xdpAttach(w.ifindex, o.progFd, HW);
    // structuredClone is what postMessage does: SharedArrayBuffers are shared, the rest copied.
    const moved: OffloadedProgramTransfer = structuredClone(w.tap.prog!.transfer());
    t.is(moved.tag, o.prog.tag);
    const there = openOffloadedProgram(moved);
    runFrames(there, [udp64(), udp64(), icmp4EchoFrame()], engine);
    const fd = o.maps.get('rxcnt')!;
    t.is(readU64(w.bpf.mapLookupElem(fd, u32(17))), 2n, 'counted by the other side, read by the guest');
    t.is(readU64(w.bpf.mapLookupElem(fd, u32(1))), 1n);
  });
}
