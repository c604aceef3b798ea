// Writing a run's captured frames as a classic pcap file (Ethernet, nanosecond timestamps), the
// format tcpdump, tshark and Wireshark open.
import { PcapWriter } from '../../host/net/index.ts';
import type { CapturedFrame } from '../../virtio/index.ts';

export function writeCapture(file: string, frames: readonly CapturedFrame[]): void {
  const w = PcapWriter.toFile(file, { nanosecond: true });
  for (const f of frames) {
    const ms = f.timeMs;
    const sec = Math.floor(ms / 1000);
    const nsec = Math.min(999_999_999, Math.round((ms - sec * 1000) * 1e6));
    w.write(f.data, 0, f.data.length, sec, nsec);
  }
  w.close();
}
