// A bpf() call that failed, guest side: an errno name and number (the device's own errno when the
// refusal came from the host, not the RFC's blanket -EFAULT), where it came from, and the
// verifier log and the instruction when there is one.
import { ERRNO } from '../../bpf-vm/index.ts';

/** Linux errnos the guest layer uses: bpf-vm's, plus the driver's EIO and the netdev lookup's ENODEV. */
export const GUEST_ERRNO = { ...ERRNO, EIO: 5, ENODEV: 19 } as const;
export type GuestErrnoName = keyof typeof GUEST_ERRNO;
/** A name for any errno, as errnoName does: unknown numbers become `E<n>`. */
export type GuestErrnoCode = GuestErrnoName | `E${number}`;

const BY_NUMBER = new Map<number, GuestErrnoName>((Object.entries(GUEST_ERRNO) as [GuestErrnoName, number][]).map(([k, v]) => [v, k]));

export function guestErrnoCode(n: number): GuestErrnoCode {
  return BY_NUMBER.get(Math.abs(n)) ?? `E${Math.abs(n)}`;
}

export class GuestBpfError extends Error {
  readonly code: GuestErrnoCode;
  /** 'guest': refused by the guest kernel; 'device': the device answered VIRTIO_NET_ERR with this errno. */
  readonly source: 'guest' | 'device';
  /** The verifier's log (the guest's, or the host's as the device returned it); for other refusals by the device, its reason text. */
  readonly log: string | undefined;
  /** The instruction at fault, when one is (allow list, map reference). */
  readonly insn: number | undefined;
  constructor(code: GuestErrnoCode, message: string, opts: { source?: 'guest' | 'device'; log?: string; insn?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'GuestBpfError';
    this.code = code;
    this.source = opts.source ?? 'guest';
    this.log = opts.log;
    this.insn = opts.insn;
  }

  get errno(): number {
    const known = (GUEST_ERRNO as Record<string, number>)[this.code];
    return known ?? Number(this.code.slice(1));
  }
}
