// `--replay FILE`, checked before the workers start: the host worker reads the same file again
// when it builds pktgen, but a missing file, a file in neither capture format or a frame pktgen
// cannot send should be a usage error, not a worker failure after the start-up.
import { HostNetError } from '../../host/net/errors.ts';
import { readPcapFile } from '../../host/net/pcap.ts';
import { PKTGEN_LIMITS } from '../../host/net/pktgen.ts';
import { RunError } from './run-error.ts';

export interface ReplaySummary {
  format: 'pcap' | 'pcapng';
  packets: number;
}

export function checkReplay(file: string): ReplaySummary {
  let cap;
  try {
    cap = readPcapFile(file);
  } catch (e) {
    if (e instanceof HostNetError && e.code === 'ENOENT') throw new RunError('ENOENT', `--replay ${file}: ${e.message}`, { cause: e });
    throw new RunError('EINVAL', `--replay ${file}: not a capture pktgen can replay (${(e as Error).message})`, { cause: e });
  }
  if (cap.packets.length === 0) throw new RunError('EINVAL', `--replay ${file}: the ${cap.format} file holds no packets`);
  for (const [i, p] of cap.packets.entries()) {
    if (p.data.length < PKTGEN_LIMITS.replayMin || p.data.length > PKTGEN_LIMITS.replayMax) {
      throw new RunError('EINVAL', `--replay ${file}: packet ${i} has ${p.data.length} bytes; pktgen replays frames of ${PKTGEN_LIMITS.replayMin} to ${PKTGEN_LIMITS.replayMax} bytes (an Ethernet header to a VLAN-tagged full frame, without FCS)`);
    }
  }
  return { format: cap.format, packets: cap.packets.length };
}
