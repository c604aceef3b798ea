// struct inet_hashinfo: TCP's socket tables. ehash holds every connection-bound socket (full
// sockets from SYN_SENT on, TIME_WAIT mini sockets, TCP_NEW_SYN_RECV request sockets) keyed by
// the exact 4-tuple; lhash2 holds listeners keyed by (local address, port); bhash holds the bind
// buckets keyed by port. As in the kernel each is a power-of-two array of chains indexed by
// hash & mask, a chain holding whatever hashes there; every lookup re-checks the full key. A chain
// is a JS array, created on first use (an empty slot is undefined, so a miss costs one load).
//
// Shared by IPv4 and IPv6 and by every netns of a machine, like tcp_hashinfo.
import { NetError } from '../core/errors.ts';
import type { Sock } from '../core/sock.ts';
import type { SockCommon } from '../core/sock-common.ts';
import type { InetBindBucket } from './inet-bind-bucket.ts';

export interface InetHashinfoOptions {
  /** ehash slots (power of two). Default 65536. */
  ehash_entries?: number;
  /** lhash2 slots (power of two). Default 4096. */
  lhash2_entries?: number;
  /** bhash slots (power of two). Default 4096. */
  bhash_entries?: number;
}

function slots<T>(n: number, what: string): (T[] | undefined)[] {
  if (!Number.isInteger(n) || n < 1 || n > 1 << 24 || (n & (n - 1)) !== 0) {
    throw new NetError('EINVAL', `${what}: ${n} slots (a power of two up to 2^24)`);
  }
  const a: (T[] | undefined)[] = [];
  for (let i = 0; i < n; i++) a.push(undefined);
  return a;
}

export class InetHashinfo {
  readonly ehash: (SockCommon[] | undefined)[];
  readonly ehash_mask: number;
  readonly lhash2: (Sock[] | undefined)[];
  readonly lhash2_mask: number;
  readonly bhash: (InetBindBucket[] | undefined)[];
  readonly bhash_size: number;

  constructor(options: InetHashinfoOptions = {}) {
    this.ehash = slots(options.ehash_entries ?? 65536, 'ehash');
    this.ehash_mask = this.ehash.length - 1;
    this.lhash2 = slots(options.lhash2_entries ?? 4096, 'lhash2');
    this.lhash2_mask = this.lhash2.length - 1;
    this.bhash = slots(options.bhash_entries ?? 4096, 'bhash');
    this.bhash_size = this.bhash.length;
  }
}

/** inet_ehash_bucket: the chain for an ehash value, created if absent. */
export function inet_ehash_bucket(h: InetHashinfo, hash: number): SockCommon[] {
  const slot = hash & h.ehash_mask;
  return h.ehash[slot] ?? (h.ehash[slot] = []);
}

/** inet_lhash2_bucket: the chain for an lhash2 value, created if absent. */
export function inet_lhash2_bucket(h: InetHashinfo, hash: number): Sock[] {
  const slot = hash & h.lhash2_mask;
  return h.lhash2[slot] ?? (h.lhash2[slot] = []);
}

/** Removes one element from a chain in place; false if absent. */
export function chain_del<T>(chain: T[] | undefined, x: T): boolean {
  if (chain === undefined) return false;
  const i = chain.indexOf(x);
  if (i < 0) return false;
  chain.splice(i, 1);
  return true;
}
