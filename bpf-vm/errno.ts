// Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h). Helpers return them negated.
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  ENOTSUPP: 524,
  EOPNOTSUPP: 95,
  // The socket layer's (net/).
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  ENETUNREACH: 101,
  ECONNREFUSED: 111,
} as const;

export type ErrnoName = keyof typeof ERRNO;

const BY_NUMBER = new Map<number, ErrnoName>(
  (Object.entries(ERRNO) as [ErrnoName, number][]).map(([k, v]) => [v, k]),
);

export function errnoName(n: number): ErrnoName | `E${number}` {
  return BY_NUMBER.get(Math.abs(n)) ?? `E${Math.abs(n)}`;
}
