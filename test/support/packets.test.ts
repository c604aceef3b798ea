// The frame builder against hand-checked bytes and the Internet checksum's own invariant.
import test from 'ava';
import { fromHex, toHex } from '../../bpf-vm/hex.ts';
import {
  ETH_P_8021AD,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_UDP,
  arpFrame,
  icmp4EchoFrame,
  internetChecksum,
  parseIpv6,
  tcp4Frame,
  truncate,
  udp4Frame,
  udp6Frame,
  udp64,
} from './packets.ts';

test('hex round-trips and rejects junk', (t) => {
  t.is(toHex(Uint8Array.of(0, 0x0f, 0xa0, 0xff)), '000fa0ff');
  t.deepEqual(fromHex('00 0F a0ff'), Uint8Array.of(0, 0x0f, 0xa0, 0xff));
  t.throws(() => fromHex('abc'));
  t.throws(() => fromHex('zz'));
});

test('udp64 is pktgen\'s 60-byte frame (64 on the wire with FCS)', (t) => {
  const f = udp64();
  t.is(f.length, 60);
  t.is(
    toHex(f),
    '020000000002' + '020000000001' + '0800' +
      '4500002e' + '00000000' + '2011' + '86bd' + '0a000001' + '0a000002' +
      '0009' + '0009' + '001a' + '0000' +
      'be9be955' + '00000000' + '00000000' + '00000000' + '0000',
  );
  t.is(internetChecksum(f.subarray(14, 34)), 0);
  t.is(udp64({ eth: { vlans: [{ vid: 1 }, { vid: 2 }] } }).length, 68);
});

test('VLAN tags go outermost first, 802.1Q unless told otherwise', (t) => {
  const f = udp4Frame({ eth: { vlans: [{ tpid: ETH_P_8021AD, vid: 100, pcp: 3 }, { vid: 200 }] } });
  t.is(toHex(f.subarray(12, 22)), '88a8' + '6064' + '8100' + '00c8' + '0800');
});

test('L4 checksums verify over the pseudo-header', (t) => {
  const sum4 = (f: Uint8Array, proto: number): number => {
    const ip = f.subarray(14, 34);
    const l4 = f.subarray(34);
    const pseudo = new Uint8Array(12);
    pseudo.set(ip.subarray(12, 20));
    pseudo[9] = proto;
    pseudo[10] = l4.length >> 8;
    pseudo[11] = l4.length & 0xff;
    return internetChecksum(new Uint8Array([...pseudo, ...l4]));
  };
  t.is(sum4(udp4Frame({ payload: Uint8Array.of(1, 2, 3) }), IPPROTO_UDP), 0);
  t.is(sum4(tcp4Frame({ payload: Uint8Array.of(9) }), 6), 0);
  const echo = icmp4EchoFrame({ icmp: { payload: Uint8Array.of(5, 6, 7) } });
  t.is(internetChecksum(echo.subarray(34)), 0);

  const f6 = udp6Frame({ payload: Uint8Array.of(1, 2, 3, 4, 5) });
  const l4 = f6.subarray(54);
  const pseudo = new Uint8Array(40);
  pseudo.set(f6.subarray(22, 54));
  pseudo[35] = l4.length;
  pseudo[39] = IPPROTO_UDP;
  t.is(internetChecksum(new Uint8Array([...pseudo, ...l4])), 0);
});

test('IPv6 extension headers chain and size themselves', (t) => {
  const f = udp6Frame({ ip: { extensions: [{ type: IPPROTO_DSTOPTS, data: new Uint8Array(10) }, { type: IPPROTO_FRAGMENT }] } });
  t.is(f[14 + 6], IPPROTO_DSTOPTS);
  // Destination options: 2 + 10 bytes rounds up to 16 = (1 + 1) * 8.
  t.is(f[54], IPPROTO_FRAGMENT);
  t.is(f[55], 1);
  t.is(f[70], IPPROTO_UDP);
  t.is(f.length, 14 + 40 + 16 + 8 + 8);
  t.is((f[18]! << 8) | f[19]!, 16 + 8 + 8);
});

test('addresses, ARP, truncation', (t) => {
  t.is(toHex(parseIpv6('fd00::1')), 'fd000000000000000000000000000001');
  t.is(toHex(parseIpv6('1:2:3:4:5:6:7:8')), '00010002000300040005000600070008');
  t.throws(() => parseIpv6('1::2::3'));
  const a = arpFrame();
  t.is(a.length, 42);
  t.is(toHex(a.subarray(0, 6)), 'ffffffffffff');
  t.is(toHex(a.subarray(12, 22)), '0806' + '0001' + '0800' + '06' + '04' + '0001');
  t.is(truncate(udp64(), 13).length, 13);
  t.throws(() => truncate(udp64(), 61));
});
