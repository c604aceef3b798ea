// Loads through socket pointers (the kernel's check_sock_access): which offsets and sizes of
// struct bpf_sock (PTR_TO_SOCKET), its common part (PTR_TO_SOCK_COMMON: no type, protocol, mark,
// priority, which a request or TIME_WAIT socket does not have) and struct bpf_tcp_sock
// (PTR_TO_TCP_SOCK) a program may read, as bpf_sock_is_valid_access,
// bpf_sock_common_is_valid_access and bpf_tcp_sock_is_valid_access allow them. Never a write.
// The run-time layout is the uapi's (bpf-sock.ts), so an accepted load is a plain region load.
import { BPF_SOCK, BPF_SOCK_SIZE, BPF_TCP_SOCK } from '../prog/bpf-sock.ts';
import { reject } from './env-types.ts';
import { typeName, type Reg } from './reg-state.ts';

/** bpf_ctx_narrow_access_ok: a power-of-two size no wider than the field. */
const narrowOk = (size: number, fieldSize: number): boolean => size <= fieldSize && (size & (size - 1)) === 0;

/** Fields a program may read in any power-of-two width (the kernel's narrow loads). */
const NARROW_FIELDS: ReadonlySet<number> = new Set([
  BPF_SOCK.state, BPF_SOCK.family, BPF_SOCK.type, BPF_SOCK.protocol, BPF_SOCK.src_port, BPF_SOCK.rx_queue_mapping,
]);

/** Byte ranges [lo, hi) of the address fields, narrow loads allowed anywhere inside. */
const ADDR_RANGES: readonly (readonly [number, number])[] = [
  [BPF_SOCK.src_ip4, BPF_SOCK.src_ip4 + 4], [BPF_SOCK.src_ip6, BPF_SOCK.src_ip6 + 16],
  [BPF_SOCK.dst_ip4, BPF_SOCK.dst_ip4 + 4], [BPF_SOCK.dst_ip6, BPF_SOCK.dst_ip6 + 16],
];

export function bpfSockIsValidAccess(off: number, size: number): boolean {
  if (off < 0 || off >= BPF_SOCK_SIZE || off % size !== 0) return false;
  if (NARROW_FIELDS.has(off)) return narrowOk(size, 4);
  for (const [lo, hi] of ADDR_RANGES) if (off >= lo && off < hi) return narrowOk(size, 4);
  // dst_port is a __be16 followed by zero padding: 4-byte loads (of old programs) read both.
  if (off === BPF_SOCK.dst_port || off === BPF_SOCK.dst_port + 1) return narrowOk(size, size === 4 ? 4 : 2);
  if (off >= BPF_SOCK.dst_port + 2 && off < BPF_SOCK.dst_ip4) return false;
  return size === 4;
}

export function bpfSockCommonIsValidAccess(off: number, size: number): boolean {
  // type, protocol, mark, priority: fields of a full socket only.
  if (off >= BPF_SOCK.type && off < BPF_SOCK.priority + 4) return false;
  return bpfSockIsValidAccess(off, size);
}

const TCP_SOCK_END = BPF_TCP_SOCK.icsk_retransmits + 4;

export function bpfTcpSockIsValidAccess(off: number, size: number): boolean {
  if (off < 0 || off >= TCP_SOCK_END || off % size !== 0) return false;
  if (off === BPF_TCP_SOCK.bytes_received || off === BPF_TCP_SOCK.bytes_acked) return size === 8;
  return size === 4;
}

/**
 * A 4-byte load of the upper half of bytes_received or bytes_acked: bpf_tcp_sock_is_valid_access
 * lets it through, but the kernel's rewrite has no instruction for it and the load fails after the
 * walk (`verifier bug: error during ctx access conversion (0)`, EFAULT), as vxo makes it fail.
 */
export const tcpSockConversionFails = (off: number, size: number): boolean =>
  size === 4 && (off === BPF_TCP_SOCK.bytes_received + 4 || off === BPF_TCP_SOCK.bytes_acked + 4);

/** check_sock_access for a load at `off` (the pointer's fixed offset plus the instruction's). */
export function checkSockAccess(r: Reg, regno: number, off: number, size: number): void {
  if (r.s.smin < 0n) reject(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  const ok = r.type === 'sock' ? bpfSockIsValidAccess(off, size)
    : r.type === 'sock_common' ? bpfSockCommonIsValidAccess(off, size)
      : r.type === 'tcp_sock' ? bpfTcpSockIsValidAccess(off, size) : false;
  if (!ok) reject(`R${regno} invalid ${typeName(r.type)} access off=${off} size=${size}`);
}
