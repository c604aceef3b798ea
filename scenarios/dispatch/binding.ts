// A dispatcher binding, as tubular has them: (protocol, prefix, port) -> label, where port 0 means
// every port. The LPM key is scenarios/sk's `struct bind_key` (README.md there): prefixlen, protocol,
// port (network order), then the address as IPv6 (IPv4 v4-mapped), packed into 23 bytes.
import { inet_ntop4, inet_ntop6, inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import { In6Addr } from '../../net/core/in6-addr.ts';
import { DispatchError } from './errors.ts';

export const IPPROTO = { IPPROTO_TCP: 6, IPPROTO_UDP: 17 } as const;
export type DispatchProtocol = 'tcp' | 'udp';

/** sizeof(struct bind_key) and the bits after its prefixlen. */
export const BIND_KEY_SIZE = 23;
export const BIND_KEY_FULL_PREFIX = (BIND_KEY_SIZE - 4) * 8;
/** sizeof(struct binding): {u32 id, u32 prefixlen}. */
export const BINDING_VALUE_SIZE = 8;

export interface Binding {
  label: string;
  protocol: DispatchProtocol;
  /** 'a.b.c.d/n' or 'x::/n' (a bare address is a /32 or /128). */
  prefix: string;
  /** 0: every port. */
  port: number;
}

/** A parsed prefix: 16 address bytes (IPv4 v4-mapped) and the address bits that count. */
export interface ParsedPrefix {
  family: 4 | 6;
  addr: Uint8Array;
  bits: number;
  /** The prefix as normalised text (host bits cleared). */
  text: string;
}

const V4_MAPPED_BITS = 96;

export function parsePrefix(prefix: string): ParsedPrefix {
  const slash = prefix.indexOf('/');
  const addrText = slash < 0 ? prefix : prefix.slice(0, slash);
  const v6 = addrText.includes(':');
  const max = v6 ? 128 : 32;
  const len = slash < 0 ? max : Number(prefix.slice(slash + 1));
  if (!Number.isInteger(len) || len < 0 || len > max || (slash >= 0 && prefix.slice(slash + 1).trim() === '')) {
    throw new DispatchError('EINVAL', `prefix ${prefix}: the length must be 0..${max}`);
  }
  const addr = new Uint8Array(16);
  let a6: In6Addr;
  try {
    a6 = v6 ? inet_pton6(addrText) : new In6Addr(0, 0, 0xffff, inet_pton4(addrText));
  } catch (e) {
    throw new DispatchError('EINVAL', `prefix ${prefix}: not an address`, { cause: e });
  }
  const dv = new DataView(addr.buffer);
  dv.setUint32(0, a6.w0); dv.setUint32(4, a6.w1); dv.setUint32(8, a6.w2); dv.setUint32(12, a6.w3);
  const bits = v6 ? len : V4_MAPPED_BITS + len;
  clearHostBits(addr, bits);
  const w = (i: number): number => dv.getUint32(4 * i);
  const text = v6 ? `${inet_ntop6(new In6Addr(w(0), w(1), w(2), w(3)))}/${len}` : `${inet_ntop4(w(3))}/${len}`;
  return { family: v6 ? 6 : 4, addr, bits, text };
}

function clearHostBits(addr: Uint8Array, bits: number): void {
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    addr[i] = addr[i]! & ((0xff00 >> keep) & 0xff);
  }
}

export function protocolNumber(p: DispatchProtocol): number {
  return p === 'tcp' ? IPPROTO.IPPROTO_TCP : IPPROTO.IPPROTO_UDP;
}

/** struct bind_key for a binding: prefixlen = 8 + 16 + the address bits. */
export function encodeBindKey(protocol: DispatchProtocol, prefix: ParsedPrefix, port: number): Uint8Array {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DispatchError('EINVAL', `port ${port}: must be 0..65535 (0: every port)`);
  const key = new Uint8Array(BIND_KEY_SIZE);
  const dv = new DataView(key.buffer);
  dv.setUint32(0, 24 + prefix.bits, true);
  key[4] = protocolNumber(protocol);
  dv.setUint16(5, port, false);
  key.set(prefix.addr, 7);
  return key;
}

/** struct binding: the destination id and the key's prefixlen (the program compares matches by it). */
export function encodeBindingValue(destId: number, key: Uint8Array): Uint8Array {
  const v = new Uint8Array(BINDING_VALUE_SIZE);
  const dv = new DataView(v.buffer);
  dv.setUint32(0, destId, true);
  dv.setUint32(4, new DataView(key.buffer, key.byteOffset).getUint32(0, true), true);
  return v;
}

export function bindingText(b: Binding): string {
  return `${b.protocol} ${parsePrefix(b.prefix).text} ${b.port === 0 ? 'all ports' : `port ${b.port}`} -> ${b.label}`;
}
