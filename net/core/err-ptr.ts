// ERR_PTR: the kernel returns "no socket, and stop looking" from a lookup step as an error pointer
// (ERR_PTR(-ECONNREFUSED) from an SK_LOOKUP or SK_REUSEPORT program's SK_DROP), a pointer value
// that encodes a negative errno. Here it is that negative errno itself, a number where a socket
// would be: a lookup step returns Sock | ErrPtr | undefined, IS_ERR is a typeof test (an
// instanceof on every hit cost a quarter of a UDP lookup), and nothing is allocated or thrown. The
// public lookups turn it into undefined at their `done:`.
import { ERRNO } from '../../bpf-vm/errno.ts';

declare const ERR_PTR_BRAND: unique symbol;

/** A negative errno standing where a socket pointer would. */
export type ErrPtr = number & { readonly [ERR_PTR_BRAND]: true };

export function ERR_PTR(error: number): ErrPtr {
  return -Math.abs(error) as ErrPtr;
}

/** ERR_PTR(-ECONNREFUSED): what SK_DROP from an SK_LOOKUP or SK_REUSEPORT program becomes. */
export const ERR_ECONNREFUSED: ErrPtr = ERR_PTR(ERRNO.ECONNREFUSED);

export function IS_ERR(p: unknown): p is ErrPtr {
  return typeof p === 'number';
}

/** PTR_ERR: the negative errno. */
export function PTR_ERR(p: ErrPtr): number {
  return p;
}
