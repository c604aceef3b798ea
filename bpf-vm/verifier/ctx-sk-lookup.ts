// struct bpf_sk_lookup access for SK_LOOKUP programs: the kernel's sk_lookup_is_valid_access. Loads
// only; `sk` (8 bytes at 0) is the socket selected so far, a nullable socket pointer holding no
// reference; the 4-byte fields allow narrow loads, remote_port (a __be16) 2- and 1-byte loads and
// the 4-byte load of programs written when it was a __u32, the zero padding after it narrow loads.
import { BPF_SK_LOOKUP, BPF_SK_LOOKUP_SIZE } from '../prog/bpf-sock.ts';
import { invalid, type CtxAccess } from './ctx-access.ts';
import { ptrReg, scalarReg, type Reg } from './reg-state.ts';
import { unknownOfSize } from './scalar.ts';

const L = BPF_SK_LOOKUP;

/** bpf_ctx_narrow_access_ok. */
const narrowOk = (size: number, fieldSize: number): boolean => size <= fieldSize && (size & (size - 1)) === 0;

/** [lo, hi) byte ranges of the 4-byte fields. */
const U32_FIELDS: readonly (readonly [number, number])[] = [
  [L.family, L.family + 4], [L.protocol, L.protocol + 4], [L.remote_ip4, L.remote_ip4 + 4], [L.local_ip4, L.local_ip4 + 4],
  [L.remote_ip6, L.remote_ip6 + 16], [L.local_ip6, L.local_ip6 + 16], [L.local_port, L.local_port + 4],
  [L.ingress_ifindex, L.ingress_ifindex + 4],
];

/** sk_lookup_is_valid_access: whether the load is allowed. */
export function skLookupIsValidAccess(off: number, size: number, write: boolean): boolean {
  if (off < 0 || off >= BPF_SK_LOOKUP_SIZE || off % size !== 0 || write) return false;
  if (off === L.sk) return size === 8;
  for (const [lo, hi] of U32_FIELDS) if (off >= lo && off < hi) return narrowOk(size, 4);
  if (off === L.remote_port || off === L.remote_port + 1) return size === 4 || narrowOk(size, 2);
  if (off >= L.remote_port + 2 && off < L.local_ip4) return narrowOk(size, 2);
  return false;
}

export function skLookupAccess(a: CtxAccess): Reg {
  // vxo's engines load context fields as they are (no sign extension).
  if (a.signed || !skLookupIsValidAccess(a.off, a.size, a.write)) return invalid(a);
  if (a.off === L.sk) return ptrReg('sock_or_null', { id: a.newId() });
  return scalarReg(unknownOfSize(a.size));
}
