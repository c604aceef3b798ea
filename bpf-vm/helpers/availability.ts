// Why a program type cannot call a helper id. Where the kernel would refuse the call too, in the
// kernel's words (check_helper_call: `invalid func unknown#N`, `program of this type cannot use
// helper bpf_x#N`); where the kernel has the helper for the type and only vxo lacks it, a message
// that says so, so that a user does not take vxo's gap for a kernel rule.
import type { BpfErrorCode } from '../errors.ts';
import { progTypeName } from '../prog/types.ts';
import { KERNEL_FUNC_PROTOS } from './kernel-func-protos.ts';
import { linuxHelperName } from './names.ts';
import { HELPERS_BY_ID } from './table.ts';

export interface HelperRefusal {
  /** EINVAL where the kernel refuses too; EOPNOTSUPP where only vxo lacks the helper. */
  code: BpfErrorCode;
  message: string;
}

/** Whether the kernel gives `progType` helper `id`; for types with no recorded list, whether vxo has it anywhere. */
function kernelGives(progType: number, id: number): boolean {
  const recorded = KERNEL_FUNC_PROTOS.get(progType);
  // Without the kernel's list, a helper vxo implements for other types is most likely one the
  // kernel refuses this type too; one vxo has nowhere is reported as vxo's gap.
  return recorded ? recorded.has(id) : !HELPERS_BY_ID.has(id);
}

/** The refusal of a call to helper `id` by a program of `progType` whose helper set lacks it. */
export function helperRefusal(progType: number, id: number): HelperRefusal {
  const name = linuxHelperName(id);
  if (name === undefined) return { code: 'EINVAL', message: `invalid func unknown#${id}` };
  if (!kernelGives(progType, id)) return { code: 'EINVAL', message: `program of this type cannot use helper ${name}#${id}` };
  const forType = HELPERS_BY_ID.has(id) ? ` for ${progTypeName(progType)} programs` : '';
  return { code: 'EOPNOTSUPP', message: `helper ${name}#${id} is not implemented by vxo${forType}` };
}
