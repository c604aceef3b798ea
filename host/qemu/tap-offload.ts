// The EBPF control class as QEMU serves it over the tap it was given. The RFC's QEMU series hands
// an offloaded program to the tap with a new tun ioctl, TUNSETOFFLOADEDXDP; net/tap.c learns what
// the host's tun can do when it opens the tap (tap_probe_vnet_hdr, tap_probe_has_ufo: one test
// ioctl each), and a host kernel without the RFC's tun/vhost patches answers an ioctl it does not
// know with -EINVAL. On such a host vhost_net consumes the tap's ptr_ring itself (vhost/rx-path.ts,
// 'ptr_ring'): there is no tap recvmsg batch for a Tx-path program to run in. QEMU then refuses
// PROG SET_OFFLOAD before it loads anything: VIRTIO_NET_ERR with EOPNOTSUPP (what the device
// cannot do, as for a helper off the allow list), so the guest's driver reports -EOPNOTSUPP and
// `ip link set dev eth0 xdpoffload ... || ip link set dev eth0 xdpdrv ...` falls back to the
// driver. Every other command (maps, UNSET_OFFLOAD) is the device model's as usual.
import { ERRNO } from '../../bpf-vm/index.ts';
import {
  decodeEbpfProgCmd, EbpfCtrlDecodeError, encodeEbpfResult, VIRTIO_NET_ACK, VIRTIO_NET_BPF_PROG_CMD, VIRTIO_NET_CTRL_EBPF_CMD,
} from '../../virtio/index.ts';
import type { EbpfOutcome, VirtioNetEbpf } from '../offload/index.ts';
import type { CtrlClassHandler } from './virtio-net.ts';

/** What QEMU's probe of the host's tun found (the ioctls the offload needs). */
export interface TunProbe {
  /** TUNSETOFFLOADEDXDP exists (a host kernel with the offload RFC's tun patches). */
  offloadedXdp: boolean;
}

/** QEMU's words for the refusal: the guest's driver puts them in its error, the run's report shows them. */
export const TUN_NO_OFFLOADED_XDP =
  "TUNSETOFFLOADEDXDP: the host's tun does not know this ioctl (a kernel before the offload RFC: vhost_net consumes the tap's ptr_ring itself, the tap's Tx path runs no program)";

export class EbpfOverTap implements CtrlClassHandler {
  readonly stats = { set_offload_refused: 0 };
  /** The last refusal's text (QEMU's error_report). */
  lastRefusal: string | undefined;

  constructor(private readonly device: Pick<VirtioNetEbpf, 'handle' | 'reset'>, readonly tun: TunProbe) {}

  handle(cmd: number, data: Uint8Array, resultCapacity: number): EbpfOutcome {
    if (!this.tun.offloadedXdp && cmd === VIRTIO_NET_CTRL_EBPF_CMD.VIRTIO_NET_CTRL_EBPF_PROG) {
      const c = decodeEbpfProgCmd(data);
      // A malformed command is the device model's to refuse, with its own errno.
      if (!(c instanceof EbpfCtrlDecodeError) && c.cmd === VIRTIO_NET_BPF_PROG_CMD.VIRTIO_NET_BPF_CMD_SET_OFFLOAD) {
        this.stats.set_offload_refused++;
        this.lastRefusal = TUN_NO_OFFLOADED_XDP;
        return { ack: VIRTIO_NET_ACK.VIRTIO_NET_ERR, result: encodeEbpfResult(ERRNO.EOPNOTSUPP, new TextEncoder().encode(TUN_NO_OFFLOADED_XDP), resultCapacity) };
      }
    }
    return this.device.handle(cmd, data, resultCapacity);
  }

  reset(): void {
    this.device.reset();
  }
}
