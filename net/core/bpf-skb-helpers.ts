// The skb helpers that reallocate or unshare (bpf_skb_change_tail, bpf_skb_pull_data's
// skb_ensure_writable: net/core/filter.c) on net's SkBuff; another BpfSkb (host/net's pool skb)
// can only change within its buffer.
import { ERRNO } from '../../bpf-vm/errno.ts';
import type { BpfSkb } from '../../bpf-vm/prog/sock-host.ts';
import { SkBuff, SkbSharedInfo, skb_cloned } from './skbuff.ts';

/** BPF_SKB_MAX_LEN = SKB_MAX_ALLOC: 16 KiB less skb_shared_info (320 bytes on x86-64). */
export const BPF_SKB_MAX_LEN = 16384 - 320;

/**
 * bpf_skb_change_tail: the packet becomes `len` bytes, new bytes zero. -EINVAL for flags, a
 * length past BPF_SKB_MAX_LEN or one cutting into the headers the stack already parsed
 * (__bpf_skb_min_len: the network header, the transport header once set).
 */
export function bpf_skb_change_tail(skb: BpfSkb, len: number, flags: bigint): number {
  if (flags !== 0n || len > BPF_SKB_MAX_LEN || len < bpf_skb_min_len(skb)) return -ERRNO.EINVAL;
  const err = bpf_skb_ensure_writable(skb, skb.len);
  if (err !== 0) return err;
  if (len > skb.len) {
    const grow = len - skb.len;
    if (skb.end - skb.tail < grow) {
      if (!(skb instanceof SkBuff)) return -ERRNO.ENOMEM;
      pskb_expand_tail(skb, grow - (skb.end - skb.tail));
    }
    skb.head.fill(0, skb.tail, skb.tail + grow);
    skb.tail += grow;
    skb.len = len;
  } else if (len < skb.len) {
    skb.tail -= skb.len - len;
    skb.len = len;
  }
  return 0;
}

/**
 * skb_ensure_writable (bpf_skb_pull_data): `len` bytes must be there (-ENOMEM if the packet is
 * shorter), and a clone's shared buffer is copied so writes stay this skb's.
 */
export function bpf_skb_ensure_writable(skb: BpfSkb, len: number): number {
  if (len > skb.len) return -ERRNO.ENOMEM;
  if (skb instanceof SkBuff && skb_cloned(skb)) pskb_expand_tail(skb, 0);
  return 0;
}

/** __bpf_skb_min_len: the bytes from data the program may not cut: up to the transport header once set, else the network header. */
function bpf_skb_min_len(skb: BpfSkb): number {
  let min = skb.network_header >= 0 ? skb.network_header - skb.data : 0;
  if (skb.transport_header >= 0) min = skb.transport_header - skb.data;
  return Math.max(0, min);
}

/**
 * pskb_expand_head(skb, 0, ntail): this skb gets a buffer of its own, ntail bytes longer at the
 * tail, headroom and header offsets unchanged. A buffer still shared with clones stays theirs;
 * one no longer used is left to the collector (the pool makes a new one when it runs short).
 */
function pskb_expand_tail(skb: SkBuff, ntail: number): void {
  const sh = new SkbSharedInfo(new Uint8Array(skb.end + ntail));
  sh.buf.set(skb.head.subarray(0, skb.tail), 0);
  skb.shinfo.dataref--;
  skb.shinfo = sh;
  skb.head = sh.buf;
  skb.view = sh.view;
  skb.end = sh.buf.length;
  skb.truesize += ntail;
}
