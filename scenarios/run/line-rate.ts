// Wire rates for --line-rate: the packets per second a link carries at a frame size, counting
// the preamble and start delimiter (8 bytes), the FCS (4) and the inter-frame gap (12) that every
// Ethernet frame costs on the wire. 10G with 60-byte frames (64 with FCS): 14.88 Mpps.

const ETH_OVERHEAD = 8 + 4 + 12;

const UNITS: Record<string, number> = { K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Bits per second from "10G", "25G", "100M", "1e9". */
export function parseLinkSpeed(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT])?(?:b(?:it)?(?:\/s|ps)?)?$/i.exec(s.trim());
  if (!m) return undefined;
  const v = Number(m[1]) * (m[2] ? UNITS[m[2].toUpperCase()]! : 1);
  return v > 0 && Number.isFinite(v) ? v : undefined;
}

/** Packets per second at `bps` for frames of `frameLen` bytes without FCS (min 60). */
export function lineRatePps(bps: number, frameLen = 60): number {
  const wire = Math.max(60, frameLen) + ETH_OVERHEAD;
  return bps / (wire * 8);
}
