// Errors carry a stable `code` so callers branch on codes, not messages: errno names for the host
// network, PCAP_* for capture files that cannot be read.

export type PcapErrorCode =
  | 'PCAP_BAD_MAGIC' // neither a classic libpcap nor a pcapng file (or a bad pcapng byte-order magic)
  | 'PCAP_BAD_VERSION' // a major version other than 2
  | 'PCAP_LINKTYPE' // a link type other than LINKTYPE_ETHERNET where Ethernet frames are needed
  | 'PCAP_TRUNCATED' // the file ends inside a header or a packet
  | 'PCAP_BAD_RECORD' // a record whose lengths, interface or timestamp cannot be right
  | 'PCAP_BAD_BLOCK'; // a pcapng block or option whose length cannot be right

export type HostNetErrorCode = 'EINVAL' | 'ENOENT' | 'EEXIST' | 'EIO' | PcapErrorCode;

export class HostNetError extends Error {
  readonly code: HostNetErrorCode;
  constructor(code: HostNetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HostNetError';
    this.code = code;
  }
}

/** A capture file that cannot be read; `offset` is the byte where the problem starts. */
export class PcapError extends HostNetError {
  readonly offset: number;
  constructor(code: PcapErrorCode, offset: number, message: string) {
    super(code, `pcap at byte ${offset}: ${message}`);
    this.name = 'PcapError';
    this.offset = offset;
  }
}
