// ns per run of a large tc program, per engine: scenarios/sk/tcp_custom_syncookie.o (some 700
// lines of C: option parsing, siphash, checksums) on a SYN (answered in place with a SYN-ACK) and
// on the ACK carrying that SYN-ACK's cookie (siphash again, a socket lookup and the reqsk kfunc,
// which refuses outside tc ingress). The JIT must not lose to the interpreter on code this size.
//
// One long-lived SkbProgramRunner per engine, as cls_bpf runs it, verified (the verifier's facts
// let the JIT drop run-time checks) and not (`tc_filter_add(..., { verify: false })`: every access
// checked, and much more code); the frame is copied back before each run because the SYN's run
// rewrites it. Medians of interleaved rounds, printed, not asserted.
// `npx tsx bench/jit-large.ts [runs per round]`
import { fileURLToPath } from 'node:url';
import { ENGINES, type EngineName } from '../bpf-vm/engines.ts';
import { loadObjectFile } from '../bpf-vm/prog/collection.ts';
import type { BpfSkb } from '../bpf-vm/prog/sock-host.ts';
import { SkbProgramRunner } from '../bpf-vm/prog/skb-runner.ts';
import { verifyProgram } from '../bpf-vm/verifier/index.ts';
import { net_bpf_host } from '../net/core/filter.ts';
import { AF_INET6, SOCK_STREAM } from '../net/core/socket-constants.ts';
import { tcp_init } from '../net/ipv4/tcp.ts';
import { udp_init } from '../net/ipv4/udp.ts';
import { ANY6, sa6, sock } from '../test/net/support/frames.ts';
import { twoHosts } from '../test/net/support/topology.ts';
import { parseIpv4, tcp4Frame, TCP_ACK } from '../test/support/packets.ts';
import {
  OBJ, SC_CLIENT4, SC_CPORT, SC_ISN, SC_SERVER4, SC_SPORT, SYNCOOKIE_SYNS, syncookieHash, syncookieIsn, syncookieKeyBytes, synFrame,
  u32le, type SyncookieKey,
} from '../test/support/sk-programs.ts';

const KEY: SyncookieKey = { k0: 0x0123456789abcdefn, k1: 0xfedcba9876543210n };
const ETH_HLEN = 14;
const HEADROOM = 64;
const ETH_P_IP = 0x0800;

export type LargePacket = 'syn' | 'ack';

export interface JitLargeRow {
  packet: LargePacket;
  engine: EngineName;
  verified: boolean;
  retval: number;
  /** Median of the rounds' ns per run. */
  nsPerRun: number;
  rounds: number[];
}

/** A tc skb at the link header with the frame after HEADROOM bytes, as cls_bpf sees one at ingress. */
function tcSkb(frame: Uint8Array): BpfSkb {
  const head = new Uint8Array(HEADROOM + frame.length + 256);
  head.set(frame, HEADROOM);
  return {
    head, view: new DataView(head.buffer), data: HEADROOM, tail: HEADROOM + frame.length, end: head.length, len: frame.length,
    mac_header: HEADROOM, network_header: HEADROOM + ETH_HLEN, transport_header: -1, mac_len: ETH_HLEN, protocol: ETH_P_IP,
    pkt_type: 0, mark: 0, priority: 0, queue_mapping: 0, hash: 0, tc_index: 0, tc_classid: 0, tstamp: 0, skb_iif: 0, meta_len: 0,
    bpf_cb: new Uint8Array(20), dev: { ifindex: 1 }, sk: null,
  };
}

/** The client's ACK of the SYN-ACK for SYNCOOKIE_SYNS[0]'s 4-tuple: a valid cookie (MSS 1460, SACK, wscale 7). */
function cookieAck(): Uint8Array {
  const hash = syncookieHash(parseIpv4(SC_CLIENT4), parseIpv4(SC_SERVER4), SC_CPORT, SC_SPORT, SC_ISN, KEY);
  const cookie = syncookieIsn(hash, { mssind: 3, ecn: false, sack: true, wscale: 7 });
  const tcp = { srcPort: SC_CPORT, dstPort: SC_SPORT, seq: (SC_ISN + 1) >>> 0, ack: (cookie + 1) >>> 0, flags: TCP_ACK, window: 502, options: new Uint8Array(0) };
  return tcp4Frame({ eth: {}, ip: { src: SC_CLIENT4, dst: SC_SERVER4 }, tcp });
}

interface Rig {
  run(): number;
}

function rig(engine: EngineName, packet: LargePacket, verified: boolean): Rig {
  const h = twoHosts({ init: (n) => { udp_init(n); tcp_init(n); } });
  const l = sock(h.b, AF_INET6, SOCK_STREAM);
  if (l.bind(sa6(ANY6, SC_SPORT)) !== 0 || l.listen(16) !== 0) throw new Error('listen');
  const col = loadObjectFile(OBJ.syncookie);
  col.maps.get('syncookie_keys')!.update(u32le(0), syncookieKeyBytes(KEY));
  const prog = col.program('tcp_custom_syncookie');
  const runner = new SkbProgramRunner(prog, { engine, verify: verified ? verifyProgram(prog) : false, netHost: net_bpf_host(h.b) });
  const frame = packet === 'syn' ? synFrame(SYNCOOKIE_SYNS[0]!) : cookieAck();
  const skb = tcSkb(frame);
  return {
    run(): number {
      skb.head.set(frame, HEADROOM);
      skb.data = HEADROOM; skb.len = frame.length; skb.tail = HEADROOM + frame.length;
      return runner.run(skb, false);
    },
  };
}

/** Interleaved rounds of `runs` runs per engine and packet, after a warm-up that lets V8 tier up. */
export function benchJitLarge(runs = 20_000, rounds = 7): JitLargeRow[] {
  const cases = [true, false].flatMap((verified) => (['syn', 'ack'] as const).flatMap((packet) => ENGINES.map((engine) => (
    { packet, engine, verified, r: rig(engine, packet, verified), samples: [] as number[], retval: 0 }))));
  for (const c of cases) for (let i = 0; i < 3 * runs; i++) c.retval = c.r.run();
  for (let k = 0; k < rounds; k++) {
    for (const c of cases) {
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) c.retval = c.r.run();
      c.samples.push(Math.round(((performance.now() - t0) * 1e6) / runs));
    }
  }
  return cases.map((c) => ({
    packet: c.packet, engine: c.engine, verified: c.verified, retval: c.retval, rounds: c.samples,
    nsPerRun: [...c.samples].sort((a, b) => a - b)[Math.floor(c.samples.length / 2)]!,
  }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of benchJitLarge(Number(process.argv[2] ?? 20_000))) {
    console.log(`tcp_custom_syncookie ${r.verified ? 'verified' : 'unverified'} ${r.packet} ${r.engine}: ${r.nsPerRun} ns/run (rounds ${r.rounds.join(' ')}) retval ${r.retval}`);
  }
}
