// struct bpf_sk_lookup access for SK_LOOKUP programs: the kernel's sk_lookup_is_valid_access.
import { invalid, type CtxAccess } from './ctx-access.ts';
import type { Reg } from './reg-state.ts';

export function skLookupAccess(a: CtxAccess): Reg {
  return invalid(a);
}
