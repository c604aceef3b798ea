// A tap queue wired in one thread, both sides: the host worker's producer and the vhost worker's
// consumer, each with its own handle on the shared ring, as two workers would have.
import {
  FramePool, PagePool, PagePoolRemote, PtrRing, SockWait, TunRecv, TunRx, TunXmit,
} from '../../tun/index.ts';

export interface TapFixture {
  fp: FramePool;
  pool: PagePool;
  remote: PagePoolRemote;
  wait: SockWait;
  xmit: TunXmit;
  recv: TunRecv;
  rx: TunRx;
}

export function tapFixture(opts: { frames?: number; ring?: number } = {}): TapFixture {
  const fp = FramePool.create({ frames: opts.frames ?? 256 });
  const pool = new PagePool(fp);
  const ring = PtrRing.create(opts.ring ?? 1024);
  const wait = SockWait.create();
  const xmit = new TunXmit({ ring, wait, pool });
  // The vhost side opens everything from descriptors, as a worker would.
  const vfp = FramePool.open(fp.share());
  const remote = new PagePoolRemote(vfp);
  const rx = new TunRx({ pool: vfp, remote });
  const recv = new TunRecv({ ring: PtrRing.open(ring.share()), pool: vfp, remote, rx });
  return { fp, pool, remote, wait, xmit, recv, rx };
}

/** Allocates a frame holding `bytes`. */
export function frameOf(f: TapFixture, bytes: Uint8Array): number {
  const h = f.pool.alloc();
  if (h < 0) throw new Error('pool empty');
  f.fp.write(h, bytes);
  return h;
}
