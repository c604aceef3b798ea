// bpf_map_lookup_elem / update_elem / delete_elem: the program side of maps.
import { ERRNO } from '../errno.ts';
import { REGION_ID, regionTag } from '../interp/regions.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../maps/map.ts';
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
