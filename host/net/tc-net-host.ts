// What tc programs on the host's NIC, tap and bridge ports see of a stack: nothing with sockets.
// Those devices are not in a Net (only br0 is, and its programs run in net's tc with net's
// BpfNetHost), so the socket lookups find nothing, as in a netns without sockets, fib_lookup has no
// device to look up from (-ENODEV, as without a host), and the skb helpers that grow or unshare a
// packet work inside its pool frame: a frame is never shared (bridge clones are copies), and its
// tail grows into the frame's tailroom and no further, since the frame cannot be reallocated.
import { ERRNO } from '../../bpf-vm/errno.ts';
import type { BpfLookupCaller, BpfNetHost, BpfSkb, BpfSkLookupKern, BpfSockRef, BpfSkLookupKind } from '../../bpf-vm/prog/sock-host.ts';

/** No socket can reach a program here; a helper given one anyway has been handed a forgery. */
function noSocket(what: string): never {
  throw new Error(`host tc: ${what} without a socket (the host's bridge path has none)`);
}

export class HostTcNetHost implements BpfNetHost {
  /** Not a netns of net/: lookups naming any netns find nothing here anyway. */
  readonly netns_id = 0;

  sk_lookup(_caller: BpfLookupCaller, _kind: BpfSkLookupKind, _family: number, _tuple: Uint8Array, _netns: bigint): BpfSockRef | null {
    return null;
  }

  sk_release(_sk: BpfSockRef): void {}

  fill_bpf_sock(_sk: BpfSockRef, _dv: DataView, _off: number): void {
    noSocket('fill_bpf_sock');
  }

  fill_bpf_tcp_sock(_sk: BpfSockRef, _dv: DataView, _off: number): boolean {
    return false;
  }

  sk_fullsock(_sk: BpfSockRef): BpfSockRef | null {
    return null;
  }

  sk_cookie(_sk: BpfSockRef): bigint {
    return 0n;
  }

  sk_by_cookie(_cookie: bigint): BpfSockRef | null {
    return null;
  }

  sk_assign_skb(_skb: BpfSkb, _sk: BpfSockRef, _flags: bigint): number {
    return -ERRNO.ESOCKTNOSUPPORT;
  }

  sk_assign_lookup(_ctx: BpfSkLookupKern, _sk: BpfSockRef | null, _flags: bigint): number {
    return -ERRNO.EINVAL;
  }

  tcp_check_syncookie(_sk: BpfSockRef, _iph: Uint8Array, _th: Uint8Array): number {
    return -ERRNO.EINVAL;
  }

  tcp_gen_syncookie(_sk: BpfSockRef, _iph: Uint8Array, _th: Uint8Array): bigint {
    return BigInt(-ERRNO.EINVAL);
  }

  fib_lookup(_params: Uint8Array, _flags: number, _ifindex: number): number {
    return -ERRNO.ENODEV;
  }

  /** Within the frame: new bytes are zero; past the frame's tailroom, -ENOMEM (no reallocation). */
  skb_change_tail(skb: BpfSkb, len: number, _flags: bigint): number {
    const newTail = skb.data + len;
    if (newTail > skb.end) return -ERRNO.ENOMEM;
    if (newTail > skb.tail) skb.head.fill(0, skb.tail, newTail);
    skb.tail = newTail;
    skb.len = len;
    return 0;
  }

  /** Frames are never shared: always writable. */
  skb_ensure_writable(_skb: BpfSkb, _len: number): number {
    return 0;
  }
}
