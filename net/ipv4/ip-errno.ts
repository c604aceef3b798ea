// The errnos the IP layer returns, from the one table (bpf-vm/errno.ts). Negate them as every
// kernel-side return is negated (-EHOSTUNREACH).
import { ERRNO } from '../../bpf-vm/errno.ts';

export const IP_ERRNO = ERRNO;
export const { EMSGSIZE, ENETUNREACH, ENOBUFS, EHOSTUNREACH } = ERRNO;
