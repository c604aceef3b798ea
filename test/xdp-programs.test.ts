// The benchmark's programs on crafted frames, on every engine: action, output frame, counters.
import test from 'ava';
import { ENGINES } from '../bpf-vm/engines.ts';
import { XDP_ACTION } from '../bpf-vm/prog/xdp.ts';
import {
  arpFrame, ETH_P_8021AD, ETH_P_8021Q, icmp4EchoFrame, tcp6Frame, truncate, udp4Frame, udp64,
} from './support/packets.ts';
import { nonZero, runObject, u32Key, u64At, XDP_DIR } from './support/vm.ts';

const xdp1 = `${XDP_DIR}xdp1.o`;
const xdp2 = `${XDP_DIR}xdp2.o`;
const redirect = `${XDP_DIR}redirect.o`;
const rxDrop = `${XDP_DIR}rx_drop.o`;
const key = (proto: number): string => `${proto.toString(16).padStart(2, '0')}000000`;
const one = '0100000000000000';

const cases = [
  { name: 'IPv4 UDP (pktgen 64-byte)', frame: udp64(), proto: 17 },
  { name: 'IPv4 ICMP', frame: icmp4EchoFrame(), proto: 1 },
  { name: 'IPv6 TCP', frame: tcp6Frame(), proto: 6 },
  { name: '802.1Q IPv4 UDP', frame: udp4Frame({ eth: { vlans: [{ vid: 10 }] } }), proto: 17 },
  { name: 'QinQ IPv4 UDP', frame: udp4Frame({ eth: { vlans: [{ vid: 100, tpid: ETH_P_8021AD }, { vid: 10, tpid: ETH_P_8021Q }] } }), proto: 17 },
  { name: 'ARP (non-IP counts as 0)', frame: arpFrame(), proto: 0 },
  { name: 'IPv4 header cut short (counts as 0)', frame: truncate(udp64(), 20), proto: 0 },
];

for (const engine of ENGINES) {
  for (const c of cases) {
    test(`${engine}: xdp1 drops and counts ${c.name}`, (t) => {
      const r = runObject(xdp1, c.frame, engine);
      t.is(r.retval, XDP_ACTION.XDP_DROP);
      t.deepEqual(r.dataOut, c.frame);
      t.deepEqual(nonZero(r.coll.maps.get('rxcnt')), { [key(c.proto)]: one });
    });

    const bounce = c.proto === 17;
    test(`${engine}: xdp2 counts ${c.name} and ${bounce ? 'bounces it with MACs swapped' : 'drops it'}`, (t) => {
      const r = runObject(xdp2, c.frame, engine);
      t.is(r.retval, bounce ? XDP_ACTION.XDP_TX : XDP_ACTION.XDP_DROP);
      const expected = c.frame.slice();
      if (bounce) {
        expected.set(c.frame.subarray(6, 12), 0);
        expected.set(c.frame.subarray(0, 6), 6);
      }
      t.deepEqual(r.dataOut, expected);
      t.deepEqual(nonZero(r.coll.maps.get('rxcnt')), { [key(c.proto)]: one });
    });
  }

  test(`${engine}: xdp1 drops a frame cut inside a VLAN tag without counting it`, (t) => {
    const r = runObject(xdp1, truncate(udp4Frame({ eth: { vlans: [{ vid: 1 }] } }), 16), engine);
    t.is(r.retval, XDP_ACTION.XDP_DROP);
    t.deepEqual(nonZero(r.coll.maps.get('rxcnt')), {});
  });

  test(`${engine}: xdp1 counts every run of --repeat`, (t) => {
    const r = runObject(xdp1, udp64(), engine, undefined, 1000);
    t.is(u64At(r.coll.maps.get('rxcnt'), 17), 1000n);
  });

  test(`${engine}: xdp2 run twice on the same buffer restores the frame`, (t) => {
    const f = udp64();
    t.deepEqual(runObject(xdp2, f, engine, undefined, 2).dataOut, f);
  });

  test(`${engine}: redirect sends every frame to the ifindex in tx_port[0]`, (t) => {
    const r = runObject(redirect, udp64(), engine, (coll) => {
      t.is(coll.maps.get('tx_port')!.update(u32Key(0), u32Key(7)), 0);
    });
    t.is(r.retval, XDP_ACTION.XDP_REDIRECT);
    t.is(r.redirect?.ifindex, 7);
    t.is(r.redirect?.key, 0);
    t.is(u64At(r.coll.maps.get('redirect_cnt'), 0), 1n);
  });

  test(`${engine}: redirect with an empty tx_port aborts (flags' low bits)`, (t) => {
    const r = runObject(redirect, udp64(), engine);
    t.is(r.retval, XDP_ACTION.XDP_ABORTED);
    t.is(r.redirect, undefined);
    t.is(u64At(r.coll.maps.get('redirect_cnt'), 0), 0n);
  });

  test(`${engine}: rx_drop counts and drops`, (t) => {
    const r = runObject(rxDrop, udp64(), engine, undefined, 3);
    t.is(r.retval, XDP_ACTION.XDP_DROP);
    const counts = Object.values(nonZero([...r.coll.maps.values()][0]));
    t.deepEqual(counts, ['0300000000000000']);
  });
}
