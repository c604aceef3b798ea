// What one boot of an emulated kernel keeps in globals: the clock jiffies come from, the PRNG, the
// hash secrets the kernel draws once (net_get_random_once in inet_ehashfn, udp_ehashfn, ...), and
// the counters that number sockets, network namespaces and reuseport groups from 1. Each emulated
// machine has one; every Net of that machine shares it, as netns share a kernel's statics.
import type { Clock } from './clock.ts';
import { Prandom } from './random.ts';
import { RealClock } from './real-clock.ts';

export interface HashSecrets {
  /** inet_ehashfn's inet_ehash_secret. */
  inet_ehash_secret: number;
  /** inet6_ehashfn's inet6_ehash_secret and tcp_ipv6_hash_secret. */
  inet6_ehash_secret: number;
  tcp_ipv6_hash_secret: number;
  /** udp_ehashfn's udp_ehash_secret. */
  udp_ehash_secret: number;
  /** udp6_ehashfn's udp6_ehash_secret and udp_ipv6_hash_secret. */
  udp6_ehash_secret: number;
  udp_ipv6_hash_secret: number;
}

export interface BootStateOptions {
  /** Default: a RealClock. Tests pass a VirtualClock. */
  clock?: Clock;
  /** Seeds the PRNG (and through it the secrets not given). Default: from the OS. */
  seed?: number;
  /** Fixes some or all secrets, e.g. to make reuseport selection reproducible. */
  secrets?: Partial<HashSecrets>;
}

export class BootState {
  readonly clock: Clock;
  readonly random: Prandom;
  readonly secrets: Readonly<HashSecrets>;
  private sock_cookie = 0;
  private net_cookie = 0;
  private reuseport_id = 0;

  constructor(options: BootStateOptions = {}) {
    this.clock = options.clock ?? new RealClock();
    this.random = new Prandom(options.seed);
    const r = (): number => this.random.get_random_u32() | 0;
    const s = options.secrets ?? {};
    this.secrets = Object.freeze({
      inet_ehash_secret: (s.inet_ehash_secret ?? r()) | 0,
      inet6_ehash_secret: (s.inet6_ehash_secret ?? r()) | 0,
      tcp_ipv6_hash_secret: (s.tcp_ipv6_hash_secret ?? r()) | 0,
      udp_ehash_secret: (s.udp_ehash_secret ?? r()) | 0,
      udp6_ehash_secret: (s.udp6_ehash_secret ?? r()) | 0,
      udp_ipv6_hash_secret: (s.udp_ipv6_hash_secret ?? r()) | 0,
    });
  }

  /** The next socket cookie (sock_gen_cookie's counter): 1, 2, 3, ... per boot, never 0. */
  next_sock_cookie(): number {
    return ++this.sock_cookie;
  }

  /** The next netns cookie (net->net_cookie), numbered like socket cookies. */
  next_net_cookie(): number {
    return ++this.net_cookie;
  }

  /** The next reuseport group id (reuseport_ida), from 1. */
  next_reuseport_id(): number {
    return ++this.reuseport_id;
  }
}
