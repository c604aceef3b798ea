// A stack setup module for the machine workers' tests (GuestNetSpec.setup / HostNetSpec.setup):
// no IP, hand-built Ethernet frames of a local EtherType (0x88b5). The guest sends `count` frames
// to br0, each a deterministic function of its sequence number, respecting its device's queue
// (a stopped queue is waited out through the wake callback); the host checks each byte for byte
// and sends it back with the addresses swapped; the guest checks the echoes. Counters say how many
// arrived intact and how many did not.
import { dev_add_pack, dev_queue_xmit, NET_RX_SUCCESS, NET_XMIT_SUCCESS } from '../../net/core/dev.ts';
import { alloc_skb, consume_skb, MAX_HEADER, skb_put, skb_reserve, type SkBuff } from '../../net/core/skbuff.ts';
import type { NetDevice } from '../../net/core/netdevice.ts';
import type { Net } from '../../net/core/net-namespace.ts';

export const ETH_P_LOCAL_EXP = 0x88b5;

export interface StackAppData {
  role: 'sender' | 'echo';
  /** sender: frames to send, and the destination (br0's MAC). */
  count?: number;
  peerMac?: number[];
  /** Payload bytes per frame (cycles over a few sizes when absent). */
  size?: number;
}

/** The frame with sequence number `seq`: dst, src, EtherType, then a payload the seq determines. */
export function appFrame(dst: ArrayLike<number>, src: ArrayLike<number>, seq: number, size?: number): Uint8Array {
  const n = size ?? [46, 200, 1000, 1486][seq & 3]!;
  const f = new Uint8Array(14 + n);
  f.set(dst as Uint8Array, 0);
  f.set(src as Uint8Array, 6);
  f[12] = ETH_P_LOCAL_EXP >> 8;
  f[13] = ETH_P_LOCAL_EXP & 0xff;
  f[14] = seq >>> 24; f[15] = (seq >>> 16) & 0xff; f[16] = (seq >>> 8) & 0xff; f[17] = seq & 0xff;
  for (let i = 18; i < f.length; i++) f[i] = (seq * 31 + i) & 0xff;
  return f;
}

function send(dev: NetDevice, frame: Uint8Array): number {
  const skb = alloc_skb(MAX_HEADER + frame.length);
  skb_reserve(skb, MAX_HEADER);
  skb.head.set(frame, skb_put(skb, frame.length));
  skb.dev = dev;
  return dev_queue_xmit(skb);
}

function check(skb: SkBuff, dst: ArrayLike<number>, src: ArrayLike<number>): boolean {
  const b = skb.head, m = skb.mac_header;
  const seq = ((b[m + 14]! << 24) | (b[m + 15]! << 16) | (b[m + 16]! << 8) | b[m + 17]!) >>> 0;
  const want = appFrame(dst, src, seq, skb.tail - m - 14);
  if (skb.tail - m !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (b[m + i] !== want[i]) return false;
  return true;
}

export function setup(ctx: { net: Net; dev: NetDevice; data: unknown }): { poll(): number; counters(): Record<string, number> } {
  const d = ctx.data as StackAppData;
  const dev = ctx.dev;
  const c = { app_sent: 0, app_send_dropped: 0, app_rx_ok: 0, app_rx_bad: 0, app_echoed: 0 };
  if (d.role === 'echo') {
    dev_add_pack(ctx.net, {
      type: ETH_P_LOCAL_EXP,
      dev: null,
      func(skb) {
        const m = skb.mac_header, b = skb.head;
        const src = b.slice(m + 6, m + 12);
        if (check(skb, dev.dev_addr, src)) c.app_rx_ok++;
        else c.app_rx_bad++;
        const reply = b.slice(m, skb.tail);
        reply.set(src, 0);
        reply.set(dev.dev_addr, 6);
        consume_skb(skb);
        if (send(dev, reply) === NET_XMIT_SUCCESS) c.app_echoed++;
        return NET_RX_SUCCESS;
      },
    });
    return { poll: () => 0, counters: () => ({ ...c }) };
  }
  const peer = Uint8Array.from(d.peerMac ?? []);
  const count = d.count ?? 0;
  dev_add_pack(ctx.net, {
    type: ETH_P_LOCAL_EXP,
    dev: null,
    func(skb) {
      if (check(skb, dev.dev_addr, peer)) c.app_rx_ok++;
      else c.app_rx_bad++;
      consume_skb(skb);
      return NET_RX_SUCCESS;
    },
  });
  return {
    // Up to 32 frames a round while the queue runs; a stopped queue waits for its wake-up.
    poll(): number {
      let n = 0;
      while (n < 32 && c.app_sent + c.app_send_dropped < count && !dev.queue_stopped) {
        const seq = c.app_sent + c.app_send_dropped;
        if (send(dev, appFrame(peer, dev.dev_addr, seq, d.size)) === NET_XMIT_SUCCESS) c.app_sent++;
        else c.app_send_dropped++;
        n++;
      }
      return n;
    },
    counters: () => ({ ...c }),
  };
}
