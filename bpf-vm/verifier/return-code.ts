// The main program's return value per program type (the kernel's check_return_code): SK_LOOKUP
// must return SK_DROP or SK_PASS, which the run array acts on (a pointer is not a known value). XDP, tc and socket filters have no
// range in the kernel (an unknown XDP action is a drop with a warning, a tc verdict outside TC_ACT_*
// is TC_ACT_UNSPEC's, a socket filter's value is a length), so none is enforced for them.
import { BPF_PROG_TYPE } from '../prog/types.ts';
import { invalidScalar } from './calls.ts';
import type { Env } from './env.ts';
import { invalid } from './env-types.ts';
import { typeName, type Reg } from './reg-state.ts';

/** SK_DROP and SK_PASS (enum sk_action). */
export const SK_DROP = 0;
export const SK_PASS = 1;

function retvalRange(progType: number): readonly [number, number] | undefined {
  switch (progType) {
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP: return [SK_DROP, SK_PASS];
    default: return undefined;
  }
}

/** r0 at the main program's exit (initialised; types without a range leave pointers to the caller's check). */
export function checkReturnCode(env: Env, r0: Reg): void {
  const range = retvalRange(env.progType);
  if (range === undefined) return;
  if (r0.type !== 'scalar') invalid(`At program exit the register R0 is not a known value (${typeName(r0.type)})`);
  const [lo, hi] = range;
  if (r0.s.smin < BigInt(lo) || r0.s.smax > BigInt(hi)) invalid(invalidScalar(r0, 'At program exit', lo, hi));
}
