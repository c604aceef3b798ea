// The host's bridge set-up with tc enabled on a tap fixture (pktgen's frames through HostNet), and
// the guest-bound frames read back off the tap's ring: shared by the host tc tests.
import { HostNet } from '../../host/net/index.ts';
import { HostTc } from '../../host/net/tc.ts';
import { MAX_TAP_BATCH } from '../../tun/index.ts';
import { tapFixture, type TapFixture } from '../tun/tap-fixture.ts';

export function hostWithTc(o: { frames?: number; ring?: number; maxBacklog?: number } = {}): { f: TapFixture; host: HostNet; tc: HostTc } {
  const f = tapFixture({ frames: o.frames ?? 2048, ring: o.ring ?? 1024 });
  const host = new HostNet({ case: 'bridge', pool: f.pool, tap: f.xmit, pktgen: { flows: 4 } });
  const tc = new HostTc(f.pool, o.maxBacklog === undefined ? {} : { netdev_max_backlog: o.maxBacklog });
  host.enableTc(tc);
  return { f, host, tc };
}

/** The guest-bound frames vhost takes off the tap's ring, in ring order, as bytes (the frames go back to the pool). */
export function drainTap(f: TapFixture): Uint8Array[] {
  const out = new Uint32Array(MAX_TAP_BATCH);
  const got: Uint8Array[] = [];
  for (;;) {
    const n = f.recv.tun_recvmsg(out);
    if (n === 0) break;
    for (let k = 0; k < n; k++) {
      got.push(f.fp.read(out[k]!));
      f.remote.free(out[k]!);
    }
  }
  f.remote.flush();
  return got;
}
