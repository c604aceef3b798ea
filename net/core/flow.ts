// struct flowi4 / flowi6: what a route lookup is asked (ip_route_output_key, ip6_route_output).
// The output paths fill in the source address when the caller leaves it 0 / ::, which is how an
// unbound socket learns its address at connect() time.
import { In6Addr } from './in6-addr.ts';

export class Flowi4 {
  flowi4_oif = 0;
  flowi4_iif = 0;
  flowi4_mark = 0;
  flowi4_tos = 0;
  flowi4_proto = 0;
  flowi4_flags = 0;
  /** Host-order addresses, as everywhere in net/. */
  saddr = 0;
  daddr = 0;
  fl4_sport = 0;
  fl4_dport = 0;
}

export class Flowi6 {
  flowi6_oif = 0;
  flowi6_iif = 0;
  flowi6_mark = 0;
  flowi6_proto = 0;
  readonly saddr = new In6Addr();
  readonly daddr = new In6Addr();
  flowlabel = 0;
  fl6_sport = 0;
  fl6_dport = 0;
}
