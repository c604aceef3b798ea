// --pcap at the stacks (issue 15): an ETH_P_ALL tap on the stack's device copies every frame, both
// ways, into the shared-memory FrameCapture; `vxo run flood --pcap` writes them as a pcap file.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAC_A, MAC_B, ethFrame, inject, ip4Packet, twoHosts } from '../net/support/topology.ts';
import { dev_add_pack, register_netdevice } from '../../net/core/dev.ts';
import { VethDevice, veth_pair, veth_poll } from '../../net/core/veth.ts';
import { inet_pton4 } from '../../net/core/inet-addr.ts';
import { ip_init } from '../../net/ipv4/ip-output.ts';
import { inet_addr_add } from '../../net/ipv4/devinet.ts';
import { neigh_add_static } from '../../net/core/neighbour.ts';
import { AF_INET } from '../../net/core/socket-constants.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { FrameCapture } from '../../virtio/index.ts';
import { stackCaptureTap } from '../../guest/virtio-net/stack.ts';
import { HostStack } from '../../host/net/host-stack.ts';
import { readPcapFile } from '../../host/net/pcap.ts';
import { runFlood } from '../../scenarios/run/run-flood.ts';
import { checkNetPcap } from '../../scenarios/run/net-capture.ts';
import { RunError } from '../../scenarios/run/run-error.ts';

const ETH_P_IP = 0x0800;
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

test('the stack tap records both directions on a veth (received before the protocols, sent as PACKET_OUTGOING)', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const cap = FrameCapture.create(8);
  dev_add_pack(h.b, stackCaptureTap(h.devb, cap.capture));
  // An unknown protocol: b counts it and answers with an ICMP protocol unreachable.
  const frame = ethFrame(MAC_B, MAC_A, ETH_P_IP, ip4Packet({ src: h.a4, dst: h.b4, proto: 253, payload: new Uint8Array(8) }));
  inject(h.devb, frame);
  h.pump();
  t.is(h.b.mib.ip.InUnknownProtos, 1, 'the tap did not take the skb');
  t.is(h.b.mib.icmp.OutDestUnreachs, 1);
  const f = cap.frames();
  t.is(f.length, 2);
  t.true(same(f[0]!.data, frame), 'the received frame, from its Ethernet header');
  t.is(f[0]!.origLen, frame.length);
  const out = f[1]!.data;
  t.true(same(out.subarray(0, 6), MAC_A) && same(out.subarray(6, 12), MAC_B), 'the reply leaves b for a');
  t.is((out[12]! << 8) | out[13]!, ETH_P_IP);
  t.is(out[14 + 9], 1, 'ICMP');
  t.is(out[14 + 20], 3, 'destination unreachable');
});

test("HostStack.addCaptureTap: br0's frames both ways", async (t) => {
  const stack = new HostStack({ clock: new VirtualClock(), seed: 1 });
  ip_init(stack.net);
  const br0 = new VethDevice('br0', MAC_B);
  const peer = new VethDevice('peer', MAC_A);
  veth_pair(br0, peer);
  register_netdevice(stack.net, br0);
  inet_addr_add(br0, inet_pton4('10.0.0.2'), 24);
  neigh_add_static(stack.net, br0, AF_INET, inet_pton4('10.0.0.1'), MAC_A);
  await stack.setup(br0, {});
  const cap = FrameCapture.create(8);
  stack.addCaptureTap(cap.capture);
  const frame = ethFrame(MAC_B, MAC_A, ETH_P_IP, ip4Packet({ src: inet_pton4('10.0.0.1'), dst: inet_pton4('10.0.0.2'), proto: 253, payload: new Uint8Array(8) }));
  inject(br0, frame);
  veth_poll(br0);
  const f = cap.frames();
  t.is(f.length, 2);
  t.true(same(f[0]!.data, frame));
  t.true(same(f[1]!.data.subarray(0, 6), MAC_A), 'the ICMP error going out of br0');
});

test('--pcap-at is checked before any worker starts', async (t) => {
  const e = t.throws(() => checkNetPcap({ file: '/tmp/x.pcap', at: 'wire' as 'nic' }, true), { instanceOf: RunError });
  t.is(e.code, 'EINVAL');
  t.throws(() => checkNetPcap({ file: '/tmp/x.pcap', at: 'host-stack' }, false), { instanceOf: RunError });
  t.throws(() => checkNetPcap({ file: '/tmp/x.pcap', count: 0 }, false), { instanceOf: RunError });
  t.notThrows(() => checkNetPcap({ file: '/tmp/x.pcap' }, false));
  await t.throwsAsync(runFlood({ kind: 'udp4', duration: 0.3, pcap: { file: '/tmp/x.pcap', at: 'host-stack' } }), { instanceOf: RunError });
});

// Needs run-machines.ts to spread MachinesRunOptions.workerData into the workers' data (see
// scenarios/run/net-capture.ts): `vhost: {...o.workerData?.vhost}`, host `{..., ...o.workerData?.host}`,
// guest `{ net: ..., ...o.workerData?.guest }`. Until then the guest never gets stackCapture.
for (const kind of ['udp4', 'syn4'] as const) {
  test.serial(`flood ${kind} --pcap at guest-stack writes a readable pcap of the flood`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vxo-pcap-'));
    try {
      const file = join(dir, 'g.pcap');
      const r = await runFlood({ kind, duration: 0.3, warmup: 0.1, pcap: { file, at: 'guest-stack', count: 50 } });
      t.truthy(r.pcap);
      const p = readPcapFile(file);
      t.true(p.packets.length > 0 && p.packets.length <= 50);
      t.is(r.pcap!.frames, p.packets.length);
      for (const pkt of p.packets) {
        const d = pkt.data;
        t.is((d[12]! << 8) | d[13]!, ETH_P_IP);
        const ihl = (d[14]! & 0xf) * 4;
        const l4 = 14 + ihl;
        const dport = (d[l4 + 2]! << 8) | d[l4 + 3]!;
        const sport = (d[l4]! << 8) | d[l4 + 1]!;
        if (kind === 'udp4') {
          t.is(d[14 + 9], 17, 'UDP');
          t.is(dport, 9);
        } else {
          // The flood's SYNs come in and cookie SYN-ACKs leave: both directions at eth0.
          t.is(d[14 + 9], 6, 'TCP');
          const flags = d[l4 + 13]!;
          t.true(flags === 0x02 || flags === 0x12, `flags ${flags}`);
          if (flags === 0x12) t.true(sport > 0);
        }
      }
      if (kind === 'syn4') t.true(p.packets.some((pkt) => pkt.data[14 + ((pkt.data[14]! & 0xf) * 4) + 13] === 0x12), 'a SYN-ACK leaving the guest');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
