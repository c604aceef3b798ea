// bpf_map_lookup_elem / update_elem / delete_elem: the program side of maps.
//
// SOCKMAP and SOCKHASH differ (net/core/sock_map.c): an entry holds a socket's cookie, a lookup
// yields the socket itself with a reference the program must release (sock_map_lookup takes one),
// and an update takes a socket pointer as its value. The cookie reaches its socket through the
// stack the program runs in (BpfNetHost.sk_by_cookie): no stack, an empty entry or a socket that
// is gone give NULL, and a guest's program can only ever reach its own netns's sockets.
import { ERRNO } from '../errno.ts';
import { REGION_ID, regionTag } from '../interp/regions.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../maps/map.ts';
import { asSockMap, hasSockMapUpdate, sockMapSkAllowed, type SockMapOps } from '../maps/sock-map-ops.ts';
import { BPF_SOCK, SOCK_SLOT } from '../prog/bpf-sock.ts';
import type { ExecEnv } from '../interp/env.ts';
import { ARG, RET, type HelperProto } from './proto.ts';
import { BPF_FUNC } from './ids.ts';

/**
 * Device maps are written from user space only; the kernel's verifier refuses programs that update
 * or delete them. An unverified program gets -EOPNOTSUPP instead of changing the host's devices.
 */
function updatableByPrograms(m: BpfMap): boolean {
  return m.spec.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP && m.spec.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP_HASH;
}

export const mapLookupElem: HelperProto = {
  id: BPF_FUNC.map_lookup_elem,
  name: 'map_lookup_elem',
  args: [ARG.ARG_CONST_MAP_PTR, ARG.ARG_PTR_TO_MAP_KEY],
  ret: RET.RET_PTR_TO_MAP_VALUE_OR_NULL,
  impl(env) {
    const R = env.R;
    const map = env.resolveMap(R[2]!, R[3]!, 'bpf_map_lookup_elem');
    const key = env.resolveMem(R[4]!, R[5]!, map.spec.keySize, false, 'bpf_map_lookup_elem key');
    const t = map.spec.type;
    if (t === BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP || t === BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH) {
      sockMapLookup(env, map as SockMapOps, key.u8, env.addr);
      return;
    }
    const off = map.lookupValueOffset(key.u8, env.addr, env.cpu);
    if (off < 0) env.setR0(0, 0);
    else env.setR0(off, regionTag(REGION_ID.FIRST_MAP + (R[3]! & 0xffff)));
  },
};

export const mapUpdateElem: HelperProto = {
  id: BPF_FUNC.map_update_elem,
  name: 'map_update_elem',
  args: [ARG.ARG_CONST_MAP_PTR, ARG.ARG_PTR_TO_MAP_KEY, ARG.ARG_PTR_TO_MAP_VALUE, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    const map = env.resolveMap(R[2]!, R[3]!, 'bpf_map_update_elem');
    if (!updatableByPrograms(map)) { env.setR0Int(-ERRNO.EOPNOTSUPP); return; }
    const key = env.resolveMem(R[4]!, R[5]!, map.spec.keySize, false, 'bpf_map_update_elem key');
    const keyOff = env.addr;
    const sockMap = asSockMap(map);
    if (sockMap !== undefined) {
      env.setR0Int(sockMapUpdate(env, sockMap, key.u8, keyOff, R[6]!, R[7]!, R[9] !== 0 ? -1 : R[8]!));
      return;
    }
    const value = env.resolveMem(R[6]!, R[7]!, map.spec.valueSize, false, 'bpf_map_update_elem value');
    // Flags are u64; anything above 32 bits is as invalid as an unknown low flag.
    const flags = R[9] !== 0 ? -1 : R[8]!;
    env.setR0Int(map.updateElem(key.u8, keyOff, value.u8, env.addr, flags, env.cpu));
  },
};

export const mapDeleteElem: HelperProto = {
  id: BPF_FUNC.map_delete_elem,
  name: 'map_delete_elem',
  args: [ARG.ARG_CONST_MAP_PTR, ARG.ARG_PTR_TO_MAP_KEY],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    const map = env.resolveMap(R[2]!, R[3]!, 'bpf_map_delete_elem');
    if (!updatableByPrograms(map)) { env.setR0Int(-ERRNO.EOPNOTSUPP); return; }
    const key = env.resolveMem(R[4]!, R[5]!, map.spec.keySize, false, 'bpf_map_delete_elem key');
    env.setR0Int(map.deleteElem(key.u8, env.addr));
  },
};

/** sock_map_lookup / sock_hash_lookup: the socket, with a reference, or NULL. */
function sockMapLookup(env: ExecEnv, map: SockMapOps, key: Uint8Array, keyOff: number): void {
  const host = env.netHost;
  const cookie = map.lookupCookie(key, keyOff);
  const sk = cookie === 0n || host === undefined ? null : host.sk_by_cookie(cookie);
  if (sk === null || host === undefined) {
    env.setR0(0, 0);
    return;
  }
  env.setR0(SOCK_SLOT.SOCK, env.socks.acquire(host, sk, true, env.pc));
}

/**
 * sock_map_update_elem: the value is a socket pointer (the verifier makes it one). -EINVAL for
 * no socket or a request / TIME_WAIT socket, -EOPNOTSUPP for a protocol or state a socket map
 * does not take, then the map's errnos. The stack's own update, when the host offers it, also
 * links the socket to the entry, so that closing the socket takes it out.
 */
function sockMapUpdate(env: ExecEnv, map: SockMapOps, key: Uint8Array, keyOff: number, lo: number, hi: number, flags: number): number {
  const host = env.netHost;
  // A socket or a tcp_sock view of one (bpf_tcp_sock's result points into the same slot).
  const sk = lo === SOCK_SLOT.SOCK || lo === SOCK_SLOT.TCP_SOCK ? env.socks.get(hi) : undefined;
  if (sk === undefined || host === undefined) return -ERRNO.EINVAL;
  if (hasSockMapUpdate(host)) return host.sock_map_update_elem(map, key, keyOff, sk, flags);
  if (host.sk_fullsock(sk) !== sk) return -ERRNO.EINVAL;
  const dv = env.regions[hi & 0xffff]!.dv;
  const err = sockMapSkAllowed(dv.getUint32(SOCK_SLOT.SOCK + BPF_SOCK.type, true), dv.getUint32(SOCK_SLOT.SOCK + BPF_SOCK.protocol, true),
    dv.getUint32(SOCK_SLOT.SOCK + BPF_SOCK.state, true), dv.getUint32(SOCK_SLOT.SOCK + BPF_SOCK.src_port, true));
  if (err !== 0) return err;
  return map.updateCookie(key, keyOff, host.sk_cookie(sk), flags);
}
