// Helpers that move an XDP buffer's bounds or choose its destination (net/core/filter.c's rules).
import { ERRNO } from '../errno.ts';
import { clearRedirect, type ExecEnv } from '../interp/env.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../maps/map.ts';
import { DevMap } from '../maps/devmap.ts';
import { ETH_HLEN, XDP_ACTION, XDP_FRAME_SIZE, XDP_META_MAX, type XdpBuff } from '../prog/xdp.ts';
import { ARG, RET, type HelperProto } from './proto.ts';
import { BPF_FUNC } from './ids.ts';

function xdpOf(env: ExecEnv, helper: string): XdpBuff {
  const x = env.xdp;
  if (x === undefined) throw env.fault(`${helper} called without an XDP context`);
  return x;
}

export const xdpAdjustHead: HelperProto = {
  id: BPF_FUNC.xdp_adjust_head,
  name: 'xdp_adjust_head',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  changesPktData: true,
  impl(env) {
    const x = xdpOf(env, 'bpf_xdp_adjust_head');
    const delta = env.R[4]! | 0;
    const metalen = x.data - x.dataMeta;
    const data = x.data + delta;
    if (data < x.hardStart + XDP_FRAME_SIZE + metalen || data > x.dataEnd - ETH_HLEN) {
      env.setR0Int(-ERRNO.EINVAL);
      return;
    }
    if (metalen > 0) x.buffer.copyWithin(x.dataMeta + delta, x.dataMeta, x.data);
    x.dataMeta += delta;
    x.data = data;
    x.syncRegion();
    env.setR0Int(0);
  },
};

export const xdpAdjustMeta: HelperProto = {
  id: BPF_FUNC.xdp_adjust_meta,
  name: 'xdp_adjust_meta',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  changesPktData: true,
  impl(env) {
    const x = xdpOf(env, 'bpf_xdp_adjust_meta');
    const meta = x.dataMeta + (env.R[4]! | 0);
    const metalen = x.data - meta;
    if (meta < x.hardStart + XDP_FRAME_SIZE || meta > x.data) {
      env.setR0Int(-ERRNO.EINVAL);
      return;
    }
    if ((metalen & 3) !== 0 || metalen > XDP_META_MAX) {
      env.setR0Int(-ERRNO.EACCES);
      return;
    }
    x.dataMeta = meta;
    x.syncRegion();
    env.setR0Int(0);
  },
};

export const xdpAdjustTail: HelperProto = {
  id: BPF_FUNC.xdp_adjust_tail,
  name: 'xdp_adjust_tail',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  changesPktData: true,
  impl(env) {
    const x = xdpOf(env, 'bpf_xdp_adjust_tail');
    const delta = env.R[4]! | 0;
    const dataEnd = x.dataEnd + delta;
    if (dataEnd > x.hardEnd || dataEnd < x.data + ETH_HLEN) {
      env.setR0Int(-ERRNO.EINVAL);
      return;
    }
    // Growing exposes bytes a previous packet left behind: clear them, as the kernel does.
    if (delta > 0) x.buffer.fill(0, x.dataEnd, dataEnd);
    x.dataEnd = dataEnd;
    x.syncRegion();
    env.setR0Int(0);
  },
};

export const redirect: HelperProto = {
  id: BPF_FUNC.redirect,
  name: 'redirect',
  args: [ARG.ARG_ANYTHING, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    if (R[4] !== 0 || R[5] !== 0) {
      env.setR0Int(XDP_ACTION.XDP_ABORTED);
      return;
    }
    clearRedirect(env.redirect);
    env.redirect.ifindex = R[2]! >>> 0;
    env.setR0Int(XDP_ACTION.XDP_REDIRECT);
  },
};

/** The low bits of redirect_map's flags: the action returned when the key is absent. */
const ACTION_MASK = 0x3;
const BPF_F_BROADCAST = 1 << 3;
const BPF_F_EXCLUDE_INGRESS = 1 << 4;

export const redirectMap: HelperProto = {
  id: BPF_FUNC.redirect_map,
  name: 'redirect_map',
  args: [ARG.ARG_CONST_MAP_PTR, ARG.ARG_ANYTHING, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    const map = env.resolveMap(R[2]!, R[3]!, 'bpf_redirect_map');
    const flags = R[6]!;
    if (R[7] !== 0 || (flags & ~(ACTION_MASK | BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS)) !== 0) {
      env.setR0Int(XDP_ACTION.XDP_ABORTED);
      return;
    }
    const type = map.spec.type;
    if (type !== BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP && type !== BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP_HASH) {
      throw env.fault(`bpf_redirect_map: map type ${type} is not a device map`);
    }
    env.setR0Int(redirectToMap(env, map, R[4]!, flags, R[7]!));
  },
};

/**
 * bpf_redirect_map once the device map is known: records the target in env.redirect and returns
 * the action. The JIT calls this directly when r1 holds a constant DEVMAP (no argument spill, no
 * map lookup by pointer); the helper above calls it after resolving r1.
 */
export function redirectToMap(env: ExecEnv, map: BpfMap, key: number, flags: number, flagsHi: number): number {
  if (flagsHi !== 0 || (flags & ~(ACTION_MASK | BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS)) !== 0) return XDP_ACTION.XDP_ABORTED;
  const broadcast = (flags & BPF_F_BROADCAST) !== 0;
  const ifindex = devmapIfindex(map, key >>> 0, env.cpu);
  const r = env.redirect;
  clearRedirect(r);
  // With BPF_F_BROADCAST the key does not matter: the frame goes to every device in the map.
  if (ifindex === 0 && !broadcast) return flags & ACTION_MASK;
  r.ifindex = broadcast ? 0 : ifindex;
  r.map = map;
  r.key = key >>> 0;
  r.broadcast = broadcast;
  r.excludeIngress = (flags & BPF_F_EXCLUDE_INGRESS) !== 0;
  return XDP_ACTION.XDP_REDIRECT;
}
const KEY_U8 = new Uint8Array(8);
const KEY_DV = new DataView(KEY_U8.buffer);

/** The target device's ifindex in a device map, 0 when the key holds none. A DEVMAP is read in one word. */
function devmapIfindex(map: BpfMap, key: number, cpu: number): number {
  if (map instanceof DevMap) return map.ifindexAt(key);
  KEY_DV.setUint32(0, key, true);
  const off = map.lookupValueOffset(KEY_U8, 0, cpu);
  if (off < 0) return 0;
  const v = map.values;
  return (v[off]! | (v[off + 1]! << 8) | (v[off + 2]! << 16) | (v[off + 3]! << 24)) >>> 0;
}
