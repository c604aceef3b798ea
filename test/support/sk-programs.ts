// What the tests of scenarios/sk's programs share (test/bpf/sk-programs*.test.ts and
// test/kernel/sk-programs.test.ts): the objects, the verdict and counter numbers of the C sources,
// and the binding key and value as scenarios/sk/README.md lays them out, encoded independently of
// the dispatcher library (scenarios/dispatch) so that the programs are checked against the README.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseIpv4, parseIpv6 } from './packets.ts';

export const SK_DIR = fileURLToPath(new URL('../../scenarios/sk/', import.meta.url));
export const OBJ = {
  dispatch: join(SK_DIR, 'dispatch.o'),
  bench: join(SK_DIR, 'sk_lookup_bench.o'),
  firewall: join(SK_DIR, 'xdp_sk_firewall.o'),
  tproxy: join(SK_DIR, 'tc_tproxy.o'),
  sfDrop: join(SK_DIR, 'sf_drop.o'),
} as const;

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SK_DROP = 0;
export const SK_PASS = 1;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;

// Counter indices, as the enums in the C sources (README.md).
export const FW = {
  PASS_NOT_IP: 0, PASS_OTHER: 1, PASS_FRAGMENT: 2, PASS_MULTICAST: 3, PASS_TCP_LISTENER: 4,
  PASS_TCP_SOCKET: 5, PASS_UDP: 6, DROP_TCP: 7, DROP_UDP: 8, DROP_TRUNCATED: 9, NR: 10,
} as const;
export const M = {
  LOOKUPS: 0, NO_BINDING: 1, MISSING_SOCKET: 2, ASSIGNED: 3, ERR_EINVAL: 4, ERR_ESOCKTNOSUPPORT: 5,
  ERR_EPROTOTYPE: 6, ERR_EAFNOSUPPORT: 7, ERR_EEXIST: 8, ERR_OTHER: 9, BAD_DESTINATION: 10, NR: 11,
} as const;
export const T = {
  NOT_SERVICE: 0, ESTABLISHED: 1, PROXY: 2, NO_PROXY: 3, ERR_EINVAL: 4, ERR_EOPNOTSUPP: 5,
  ERR_ENETUNREACH: 6, ERR_ESOCKTNOSUPPORT: 7, ERR_ENOENT: 8, ERR_OTHER: 9, NR: 10,
} as const;
export const B = { RUNS: 0, HITS: 1, MISSES: 2, NR: 3 } as const;

export function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** struct bind_key (23 bytes, packed): prefixlen u32 LE, protocol u8, port be16, address[16] (IPv4 v4-mapped). */
export function bindKey(protocol: number, port: number, addr: string, addrPrefix: number): Uint8Array {
  const v4 = !addr.includes(':');
  const a = new Uint8Array(16);
  if (v4) {
    a[10] = 0xff;
    a[11] = 0xff;
    a.set(parseIpv4(addr), 12);
  } else {
    a.set(parseIpv6(addr));
  }
  const k = new Uint8Array(23);
  const dv = new DataView(k.buffer);
  dv.setUint32(0, 8 + 16 + (v4 ? 96 : 0) + addrPrefix, true);
  k[4] = protocol;
  dv.setUint16(5, port, false);
  k.set(a, 7);
  return k;
}

/** struct binding: id u32, prefixlen u32 (the key's, so port and port-0 matches compare). */
export function binding(id: number, key: Uint8Array): Uint8Array {
  const v = new Uint8Array(8);
  const dv = new DataView(v.buffer);
  dv.setUint32(0, id, true);
  dv.setUint32(4, new DataView(key.buffer, key.byteOffset).getUint32(0, true), true);
  return v;
}
