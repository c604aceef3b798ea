// struct inet_bind_bucket: one per (netns, port) in use by TCP, listing the sockets that hold the
// port (tb->owners): bound and listening full sockets, and TIME_WAIT mini sockets, which keep the
// port until they expire. bind() checks a new socket against the owners (inet-connection-sock.ts);
// the bucket goes when its last owner leaves.
//
// The kernel also keeps bhash2 (buckets per (port, address)) and the fastreuse/fastreuseport
// summaries, both there to make the conflict check cheaper with many owners; the check here walks
// the owners, which decides the same cases.
import { ERRNO } from '../../bpf-vm/errno.ts';
import type { Net } from '../core/net-namespace.ts';
import type { Sock } from '../core/sock.ts';
import type { SockCommon } from '../core/sock-common.ts';
import { chain_del, type InetHashinfo } from './inet-hashinfo.ts';
import { inet_bhashfn } from './inet-hashfn.ts';

export class InetBindBucket {
  readonly ib_net: Net;
  readonly port: number;
  /** The VRF (l3mdev) the bucket is for; 0, as vxo has no VRFs. */
  readonly l3mdev = 0;
  /** Sock or InetTimewaitSock. */
  readonly owners: SockCommon[] = [];

  constructor(net: Net, port: number) {
    this.ib_net = net;
    this.port = port;
  }
}

export function inet_bind_bucket_find(h: InetHashinfo, net: Net, port: number): InetBindBucket | undefined {
  const chain = h.bhash[inet_bhashfn(net, port, h.bhash_size)];
  if (chain === undefined) return undefined;
  for (let i = 0; i < chain.length; i++) {
    const tb = chain[i]!;
    if (tb.ib_net === net && tb.port === port) return tb;
  }
  return undefined;
}

export function inet_bind_bucket_create(h: InetHashinfo, net: Net, port: number): InetBindBucket {
  const slot = inet_bhashfn(net, port, h.bhash_size);
  const chain = h.bhash[slot] ?? (h.bhash[slot] = []);
  const tb = new InetBindBucket(net, port);
  chain.push(tb);
  return tb;
}

/** inet_bind_bucket_destroy: frees the bucket once it has no owners. */
export function inet_bind_bucket_destroy(h: InetHashinfo, tb: InetBindBucket): void {
  if (tb.owners.length !== 0) return;
  const slot = inet_bhashfn(tb.ib_net, tb.port, h.bhash_size);
  const chain = h.bhash[slot];
  chain_del(chain, tb);
  if (chain !== undefined && chain.length === 0) h.bhash[slot] = undefined;
}

/** inet_bind_hash: `sk` takes `port` through `tb`. */
export function inet_bind_hash(sk: Sock, tb: InetBindBucket, port: number): void {
  sk.skc_num = port;
  sk.icsk_bind_hash = tb;
  tb.owners.push(sk);
}

/** inet_put_port: `sk` gives its port back (inet_num becomes 0); the bucket goes with its last owner. */
export function inet_put_port(h: InetHashinfo, sk: Sock): void {
  const tb = sk.icsk_bind_hash;
  sk.icsk_bind_hash = null;
  sk.skc_num = 0;
  if (tb === null) return;
  chain_del(tb.owners, sk);
  inet_bind_bucket_destroy(h, tb);
}

/**
 * __inet_inherit_port: an accepted child shares its listener's port. When the child's port differs
 * (a proxy redirected the flow to a listener on another port) it gets that port's bucket. 0 or
 * -ENOENT (the listener holds no port).
 */
export function __inet_inherit_port(h: InetHashinfo, sk: Sock, child: Sock): number {
  let tb = sk.icsk_bind_hash;
  if (tb === null) return -ERRNO.ENOENT;
  const port = child.skc_num;
  if (tb.port !== port) tb = inet_bind_bucket_find(h, child.skc_net, port) ?? inet_bind_bucket_create(h, child.skc_net, port);
  inet_bind_hash(child, tb, port);
  return 0;
}
