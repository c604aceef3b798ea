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
  // The socket layer's and the protocols' (net/).
  ENOTTY: 25,
  EPIPE: 32,
  ENONET: 64,
  EPROTO: 71,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTDOWN: 112,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
} as const;

export type ErrnoName = keyof typeof ERRNO;

const BY_NUMBER = new Map<number, ErrnoName>(
  (Object.entries(ERRNO) as [ErrnoName, number][]).map(([k, v]) => [v, k]),
);

export function errnoName(n: number): ErrnoName | `E${number}` {
  return BY_NUMBER.get(Math.abs(n)) ?? `E${Math.abs(n)}`;
}
