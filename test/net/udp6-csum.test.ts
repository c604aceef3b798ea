// The IPv6 UDP checksum summed from the header's bytes (udp6_csum_bad) against csum_ipv6_magic
// over parsed addresses, and the receive paths' address parse (ipv6_hdr_addr) against
// In6Addr.read: the same answers for addresses with the top bit set (fd00::/8, fe80::/10), odd
// lengths, carries, one flipped bit. One thread, no stacks.
import test from 'ava';
import { In6Addr } from '../../net/core/in6-addr.ts';
import { csum_ipv6_magic, csum_partial } from '../../net/core/checksum.ts';
import { alloc_skb, consume_skb, skb_put, CHECKSUM_NONE, CHECKSUM_UNNECESSARY } from '../../net/core/skbuff.ts';
import { udp6_csum_bad } from '../../net/ipv6/udp-csum.ts';
import { ipv6_hdr_addr } from '../../net/ipv6/ipv6-hdr-addr.ts';

/** xorshift32: the same "random" headers every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

/** An IPv6 + UDP datagram in an skb: random addresses (half with the top bit), `plen` payload bytes, the right checksum unless `flip`. */
function datagram(r: () => number, plen: number, flip: number | null): { skb: ReturnType<typeof alloc_skb>; ulen: number } {
  const ulen = 8 + plen;
  const skb = alloc_skb(40 + ulen + 64);
  const nh = skb_put(skb, 40 + ulen);
  const b = skb.head;
  const v = skb.view;
  v.setUint32(nh, 0x60000000);
  v.setUint16(nh + 4, ulen);
  b[nh + 6] = 17;
  b[nh + 7] = 64;
  for (let i = 0; i < 8; i++) v.setUint32(nh + 8 + i * 4, r());
  if ((r() & 1) === 0) b[nh + 8] = 0xfd;
  else { b[nh + 24] = 0xfe; b[nh + 25] = 0x80; }
  const th = nh + 40;
  v.setUint16(th, r() & 0xffff);
  v.setUint16(th + 2, r() & 0xffff);
  v.setUint16(th + 4, ulen);
  v.setUint16(th + 6, 0);
  for (let i = 0; i < plen; i++) b[th + 8 + i] = r() & 0xff;
  const saddr = new In6Addr().read(b, nh + 8);
  const daddr = new In6Addr().read(b, nh + 24);
  const c = csum_ipv6_magic(saddr, daddr, ulen, 17, csum_partial(b, th, ulen, 0));
  v.setUint16(th + 6, c === 0 ? 0xffff : c);
  if (flip !== null) b[th + (flip % ulen)]! ^= 1 << (flip & 7);
  skb.network_header = nh;
  skb.transport_header = th;
  skb.data = th;
  skb.len = ulen;
  return { skb, ulen };
}

test('udp6_csum_bad: a right checksum passes (and is marked verified), one flipped bit fails, as csum_ipv6_magic decides', (t) => {
  const r = rng(18);
  for (let i = 0; i < 400; i++) {
    const plen = r() % 300;
    const good = datagram(r, plen, null);
    t.false(udp6_csum_bad(good.skb, good.ulen), `datagram ${i}, ${plen} bytes`);
    t.is(good.skb.ip_summed, CHECKSUM_UNNECESSARY);
    consume_skb(good.skb);
    // A flipped bit in the checksum field itself or the ports/length/payload: always caught.
    const bad = datagram(r, plen, r());
    const b = bad.skb.head;
    const nh = bad.skb.network_header;
    const saddr = new In6Addr().read(b, nh + 8);
    const daddr = new In6Addr().read(b, nh + 24);
    const magic = csum_ipv6_magic(saddr, daddr, bad.ulen, 17, csum_partial(b, bad.skb.transport_header, bad.ulen, 0));
    t.is(bad.skb.ip_summed, CHECKSUM_NONE);
    t.is(udp6_csum_bad(bad.skb, bad.ulen), magic !== 0, `flipped ${i}`);
    consume_skb(bad.skb);
  }
});

test('udp6_csum_bad: a zero checksum is an error over IPv6; CHECKSUM_UNNECESSARY is trusted', (t) => {
  const d = datagram(rng(7), 5, null);
  d.skb.view.setUint16(d.skb.transport_header + 6, 0);
  t.true(udp6_csum_bad(d.skb, d.ulen));
  d.skb.ip_summed = CHECKSUM_UNNECESSARY;
  t.false(udp6_csum_bad(d.skb, d.ulen));
  consume_skb(d.skb);
});

test('ipv6_hdr_addr reads what In6Addr.read reads (u32 words in host order), top bit or not', (t) => {
  const r = rng(6);
  const b = new Uint8Array(64);
  const out = new In6Addr();
  for (let i = 0; i < 500; i++) {
    for (let k = 0; k < b.length; k++) b[k] = r() & 0xff;
    const off = r() % 48;
    const want = new In6Addr().read(b, off);
    t.is(ipv6_hdr_addr(b, off, out), out);
    t.deepEqual([out.w0, out.w1, out.w2, out.w3], [want.w0, want.w1, want.w2, want.w3]);
  }
  b.fill(0xff);
  ipv6_hdr_addr(b, 0, out);
  t.deepEqual([out.w0, out.w1, out.w2, out.w3], [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
});
