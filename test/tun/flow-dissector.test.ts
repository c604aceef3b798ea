// The flow hash tun_select_queue steers by: symmetric (both directions of a flow hash alike), per
// flow, ports only when the packet carries them, the same through a VLAN tag, never 0.
import test from 'ava';
import { FlowDissector, reciprocal_scale } from '../../tun/index.ts';
import { ethernet, ipv4, tcp6Frame, udp, udp4Frame } from '../support/packets.ts';

const hash = (d: FlowDissector, f: Uint8Array): number => d.hashSymmetric(f, 0, f.length);

test('both directions of a flow hash alike; other flows, and other seeds, differ', (t) => {
  const d = new FlowDissector(0x1234);
  const there = udp4Frame({ ip: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { srcPort: 1000, dstPort: 2000 } });
  const back = udp4Frame({ ip: { src: '10.0.0.2', dst: '10.0.0.1' }, udp: { srcPort: 2000, dstPort: 1000 } });
  t.is(hash(d, there), hash(d, back));
  const other = udp4Frame({ ip: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { srcPort: 1001, dstPort: 2000 } });
  t.not(hash(d, there), hash(d, other));
  t.not(hash(new FlowDissector(0x4321), there), hash(d, there), 'hashrnd is part of the hash');
  const v6a = tcp6Frame({ ip: { src: 'fe80::1', dst: 'fe80::2' }, tcp: { srcPort: 80, dstPort: 5000 } });
  const v6b = tcp6Frame({ ip: { src: 'fe80::2', dst: 'fe80::1' }, tcp: { srcPort: 5000, dstPort: 80 } });
  t.is(hash(d, v6a), hash(d, v6b));
  t.not(hash(d, v6a), hash(d, there));
});

test('fragments hash without ports; a VLAN tag does not change the flow; short frames still hash, never to 0', (t) => {
  const d = new FlowDissector(7);
  const frag = (srcPort: number): Uint8Array =>
    ethernet(0x0800, ipv4(17, udp(new Uint8Array(8), { srcPort }), { src: '10.0.0.1', dst: '10.0.0.2', fragOff: 0x2000 }));
  t.is(hash(d, frag(1)), hash(d, frag(2)), 'a first fragment (MF set) is hashed on addresses only');
  const plain = udp4Frame({ udp: { srcPort: 5 } });
  const tagged = udp4Frame({ udp: { srcPort: 5 }, eth: { vlans: [{ vid: 10 }] } });
  t.is(hash(d, tagged), hash(d, plain));
  t.true(hash(d, new Uint8Array(10)) !== 0);
  t.true(hash(d, ethernet(0x88cc, new Uint8Array(46))) !== 0, 'LLDP: hashed on its EtherType');
});

test('reciprocal_scale spreads the 32-bit hash over [0, n)', (t) => {
  t.is(reciprocal_scale(0, 4), 0);
  t.is(reciprocal_scale(0xffffffff, 4), 3);
  t.is(reciprocal_scale(0x80000000, 4), 2);
  t.is(reciprocal_scale(-1, 1), 0, 'one queue: always 0');
});
