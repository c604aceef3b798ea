// The virtio-pci modern register blocks a driver programs a device through (virtio 1.x 4.1.4):
// the common configuration structure (struct virtio_pci_common_cfg) and the device-specific
// configuration (struct virtio_net_config for a network device). A driver reads and writes these
// registers; a device model answers each access, as QEMU answers the guest's MMIO traps.

/** Offsets in struct virtio_pci_common_cfg (include/uapi/linux/virtio_pci.h). */
export const VIRTIO_PCI_COMMON = {
  VIRTIO_PCI_COMMON_DFSELECT: 0, // u32 device_feature_select
  VIRTIO_PCI_COMMON_DF: 4, // u32 device_feature
  VIRTIO_PCI_COMMON_GFSELECT: 8, // u32 driver_feature_select
  VIRTIO_PCI_COMMON_GF: 12, // u32 driver_feature
  VIRTIO_PCI_COMMON_MSIX: 16, // u16 config_msix_vector
  VIRTIO_PCI_COMMON_NUMQ: 18, // u16 num_queues
  VIRTIO_PCI_COMMON_STATUS: 20, // u8 device_status
  VIRTIO_PCI_COMMON_CFGGENERATION: 21, // u8 config_generation
  VIRTIO_PCI_COMMON_Q_SELECT: 22, // u16 queue_select
  VIRTIO_PCI_COMMON_Q_SIZE: 24, // u16 queue_size
  VIRTIO_PCI_COMMON_Q_MSIX: 26, // u16 queue_msix_vector
  VIRTIO_PCI_COMMON_Q_ENABLE: 28, // u16 queue_enable
  VIRTIO_PCI_COMMON_Q_NOFF: 30, // u16 queue_notify_off
  VIRTIO_PCI_COMMON_Q_DESCLO: 32, // u32 queue_desc low
  VIRTIO_PCI_COMMON_Q_DESCHI: 36,
  VIRTIO_PCI_COMMON_Q_AVAILLO: 40, // u32 queue_driver low
  VIRTIO_PCI_COMMON_Q_AVAILHI: 44,
  VIRTIO_PCI_COMMON_Q_USEDLO: 48, // u32 queue_device low
  VIRTIO_PCI_COMMON_Q_USEDHI: 52,
  VIRTIO_PCI_COMMON_Q_NDATA: 56, // u16 queue_notify_data
  VIRTIO_PCI_COMMON_Q_RESET: 58, // u16 queue_reset
} as const;

export const VIRTIO_PCI_COMMON_CFG_SIZE = 60;

/** Offsets in struct virtio_net_config (include/uapi/linux/virtio_net.h). */
export const VIRTIO_NET_CONFIG = {
  mac: 0, // u8[6], valid with VIRTIO_NET_F_MAC
  status: 6, // u16, with VIRTIO_NET_F_STATUS
  max_virtqueue_pairs: 8, // u16, with VIRTIO_NET_F_MQ
  mtu: 10, // u16, with VIRTIO_NET_F_MTU
} as const;

export const VIRTIO_NET_CONFIG_SIZE = 12;

/** VIRTIO_NET_S_* bits of virtio_net_config.status. */
export const VIRTIO_NET_S = { VIRTIO_NET_S_LINK_UP: 1, VIRTIO_NET_S_ANNOUNCE: 2 } as const;

/** Which register block an access goes to. */
export const VIRTIO_PCI_CAP = { COMMON: 1, DEVICE: 4 } as const;
export type VirtioPciCap = (typeof VIRTIO_PCI_CAP)[keyof typeof VIRTIO_PCI_CAP];

/**
 * A device's register file as the driver sees it. Accesses are 1, 2 or 4 bytes wide; a read of
 * something that does not exist returns 0 and a write to it is ignored, as on real hardware.
 */
export interface VirtioPciRegs {
  read(cap: VirtioPciCap, offset: number, size: 1 | 2 | 4): number;
  write(cap: VirtioPciCap, offset: number, size: 1 | 2 | 4, value: number): void;
}
