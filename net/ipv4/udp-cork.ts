// UDP corking (UDP_CORK, MSG_MORE; udp_push_pending_frames, net/ipv4/udp.c): while a socket is
// corked, or a send says MSG_MORE, the payloads are collected into one pending datagram, whose
// destination, source and route are fixed by the send that started it; the datagram leaves when
// a send without MSG_MORE on an uncorked socket ends it, or when UDP_CORK is turned off. An
// append that would make it larger than UDP carries fails with EMSGSIZE and discards it, as
// ip_append_data's error does.
import type { Sock } from '../core/sock.ts';
import { MSG } from '../core/socket-options.ts';
import { E } from '../core/sock-opts.ts';

/** include/uapi/linux/udp.h */
export const UDP_CORK = 1;

/** The largest payload of one pending datagram (IPv4's limit; IPv6's is 8 bytes more). */
const UDP_CORK_MAX = 0xffff - 20 - 8;

/** The datagram being collected, and how to send it once complete (the family's send, its flow fixed). */
export interface UdpPending {
  len: number;
  readonly chunks: Uint8Array[];
  readonly push: (data: Uint8Array) => number;
}

const pending = new WeakMap<Sock, UdpPending>();
const corked = new WeakSet<Sock>();

/** corkreq: this send only appends (UDP_CORK on, or MSG_MORE). */
export function udp_corkreq(sk: Sock, flags: number): boolean {
  return (flags & MSG.MSG_MORE) !== 0 || corked.has(sk);
}

export function udp_corked(sk: Sock): boolean {
  return corked.has(sk);
}

export function udp_pending(sk: Sock): UdpPending | undefined {
  return pending.get(sk);
}

/** Starts a pending datagram with `data` (copied); returns its length. */
export function udp_start_pending(sk: Sock, data: Uint8Array, push: (data: Uint8Array) => number): number {
  pending.set(sk, { len: data.length, chunks: [data.slice()], push });
  return data.length;
}

/** ip_append_data onto the pending datagram, then udp_push_pending_frames unless corkreq. */
export function udp_append_pending(sk: Sock, p: UdpPending, data: Uint8Array, corkreq: boolean): number {
  if (p.len + data.length > UDP_CORK_MAX) {
    udp_flush_pending_frames(sk);
    return -E.EMSGSIZE;
  }
  p.chunks.push(data.slice());
  p.len += data.length;
  if (corkreq) return data.length;
  const err = udp_push_pending_frames(sk);
  return err < 0 ? err : data.length;
}

/** udp_push_pending_frames: sends the pending datagram. Its send's result (bytes or -errno), 0 if none. */
export function udp_push_pending_frames(sk: Sock): number {
  const p = pending.get(sk);
  if (p === undefined) return 0;
  pending.delete(sk);
  const data = new Uint8Array(p.len);
  let off = 0;
  for (const c of p.chunks) {
    data.set(c, off);
    off += c.length;
  }
  return p.push(data);
}

/** udp_flush_pending_frames: discards it. */
export function udp_flush_pending_frames(sk: Sock): void {
  pending.delete(sk);
}

/** UDP_CORK: on collects, off sends what was collected. */
export function udp_set_cork(sk: Sock, on: boolean): void {
  if (on) {
    corked.add(sk);
    return;
  }
  corked.delete(sk);
  udp_push_pending_frames(sk);
}
