// The errnos the IP layer returns that bpf-vm/errno.ts does not list yet (include/uapi/asm-generic/errno.h).
// Negate them as every kernel-side return is negated (-EHOSTUNREACH).
export const IP_ERRNO = {
  EINVAL: 22,
  EMSGSIZE: 90,
  EPROTONOSUPPORT: 93,
  EADDRNOTAVAIL: 99,
  ENETUNREACH: 101,
  ENOBUFS: 105,
  EHOSTUNREACH: 113,
  EEXIST: 17,
  ENODEV: 19,
} as const;
export const { EMSGSIZE, ENETUNREACH, ENOBUFS, EHOSTUNREACH } = IP_ERRNO;
