// struct in6_addr as four u32 words (s6_addr32[0..3], each in host order: 2001:db8:: has
// w0 = 0x20010db8). Comparing four numbers is what the lookups do per socket, and hashing takes
// the words as arguments, so an address costs no byte walk and no string. The class is mutable so
// a receive path can parse each packet's addresses into one preallocated object; lookups take the
// read-only view.
export interface ReadonlyIn6Addr {
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
}

export class In6Addr implements ReadonlyIn6Addr {
  // Initialised here, not only in the constructor: a field declared bare is defined as undefined
  // first (ES2022 class fields), V8 then keeps it tagged and every word >= 2^31 (fd00::/8, fe80::/10)
  // would be a heap number allocated per store.
  w0 = 0;
  w1 = 0;
  w2 = 0;
  w3 = 0;

  constructor(w0 = 0, w1 = 0, w2 = 0, w3 = 0) {
    this.w0 = w0 >>> 0;
    this.w1 = w1 >>> 0;
    this.w2 = w2 >>> 0;
    this.w3 = w3 >>> 0;
  }

  set(w0: number, w1: number, w2: number, w3: number): this {
    this.w0 = w0 >>> 0;
    this.w1 = w1 >>> 0;
    this.w2 = w2 >>> 0;
    this.w3 = w3 >>> 0;
    return this;
  }

  copy_from(a: ReadonlyIn6Addr): this {
    this.w0 = a.w0;
    this.w1 = a.w1;
    this.w2 = a.w2;
    this.w3 = a.w3;
    return this;
  }

  /** Reads 16 bytes in network order (an IPv6 header's address field). */
  read(b: Uint8Array, off: number): this {
    // Per packet on the IPv6 receive path: no closure, four straight loads.
    this.w0 = be32(b, off);
    this.w1 = be32(b, off + 4);
    this.w2 = be32(b, off + 8);
    this.w3 = be32(b, off + 12);
    return this;
  }
}

function be32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** in6addr_any (::). Never mutate it. */
export const in6addr_any: ReadonlyIn6Addr = new In6Addr();

export function ipv6_addr_equal(a: ReadonlyIn6Addr, b: ReadonlyIn6Addr): boolean {
  return a.w0 === b.w0 && a.w1 === b.w1 && a.w2 === b.w2 && a.w3 === b.w3;
}

export function ipv6_addr_any(a: ReadonlyIn6Addr): boolean {
  return (a.w0 | a.w1 | a.w2 | a.w3) === 0;
}

/** ::ffff:a.b.c.d */
export function ipv6_addr_v4mapped(a: ReadonlyIn6Addr): boolean {
  return (a.w0 | a.w1) === 0 && a.w2 === 0x0000ffff;
}

export function ipv6_addr_set_v4mapped(addr: number, out: In6Addr): In6Addr {
  return out.set(0, 0, 0x0000ffff, addr);
}

/** IPV6_ADDR_* type bits (include/net/ipv6.h), as many as binding needs. */
export const IPV6_ADDR_TYPES = {
  IPV6_ADDR_ANY: 0x0000,
  IPV6_ADDR_UNICAST: 0x0001,
  IPV6_ADDR_MULTICAST: 0x0002,
  IPV6_ADDR_LOOPBACK: 0x0010,
  IPV6_ADDR_LINKLOCAL: 0x0020,
  IPV6_ADDR_MAPPED: 0x1000,
} as const;
const { IPV6_ADDR_ANY, IPV6_ADDR_UNICAST, IPV6_ADDR_MULTICAST, IPV6_ADDR_LOOPBACK, IPV6_ADDR_LINKLOCAL, IPV6_ADDR_MAPPED } =
  IPV6_ADDR_TYPES;

/** ipv6_addr_type(), reduced to the classes the socket tables and bind() tell apart. */
export function ipv6_addr_type(a: ReadonlyIn6Addr): number {
  if (ipv6_addr_any(a)) return IPV6_ADDR_ANY;
  if (ipv6_addr_v4mapped(a)) return IPV6_ADDR_MAPPED;
  if (a.w0 >>> 24 === 0xff) return IPV6_ADDR_MULTICAST;
  if ((a.w0 | a.w1 | a.w2) === 0 && a.w3 === 1) return IPV6_ADDR_UNICAST | IPV6_ADDR_LOOPBACK;
  if (a.w0 >>> 22 === 0xfe80 >>> 6) return IPV6_ADDR_UNICAST | IPV6_ADDR_LINKLOCAL;
  return IPV6_ADDR_UNICAST;
}
