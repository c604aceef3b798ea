// The driver's XDP attachment state (virtnet_info's xdp_prog and the RFC's offload_xdp_prog) and
// the RFC's rule of one mode at a time. The RFC answered a conflict with -EINVAL and an extack
// message ("program already attached in offload mode" from virtnet_xdp_set, "... in driver mode"
// from virtnet_xdp_offload_check), not EBUSY or EEXIST; vxo keeps its errno and its words.
import { GuestBpfError } from './errors.ts';
import type { GuestProg } from './objects.ts';

export class XdpAttachState {
  /** XDP_SETUP_PROG: runs in the driver's rx path. */
  native: GuestProg | null = null;
  /** XDP_SETUP_PROG_HW: runs on the device (the host tap). */
  offload: GuestProg | null = null;

  /** virtnet_xdp_set's check before a native attach. */
  checkNative(prog: GuestProg | null, dev: string): void {
    if (prog !== null && this.offload !== null) throw new GuestBpfError('EINVAL', `${dev}: program already attached in offload mode`);
  }

  /** virtnet_xdp_offload_check's mode check before an offload attach. */
  checkOffload(prog: GuestProg | null, dev: string): void {
    if (prog !== null && this.native !== null) throw new GuestBpfError('EINVAL', `${dev}: program already attached in driver mode`);
  }
}
