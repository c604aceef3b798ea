// SYN cookies against the running kernel, through its BPF helpers bpf_tcp_raw_gen_syncookie_ipv4/6
// and bpf_tcp_raw_check_syncookie_ipv4/6 (XDP, BPF_PROG_TEST_RUN). The kernel's secret is not ours,
// so the cookies themselves differ; what must agree is everything the secret does not touch: the
// MSS tables and the rounding of the SYN's MSS, that the client ISN and the MSS index are added to
// the hashes (cookies of one 4-tuple in one minute differ by exactly the ISN and index differences),
// and which neighbouring ACKs a cookie accepts (an ISN 2 higher reads as MSS index 1, 4 higher as
// an invalid index). Skipped (passing, with the reason logged) where no kernel can serve.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BootState } from '../../net/core/boot-state.ts';
import { inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { __cookie_v4_check, __cookie_v4_init_sequence } from '../../net/ipv4/syncookies.ts';
import { __cookie_v6_check, __cookie_v6_init_sequence } from '../../net/ipv6/syncookies.ts';
import { clangBpfArgs, kernelTestRun } from '../support/kernel.ts';
import { kernelTest } from '../support/kernel-test.ts';

// One frame carries up to 16 records of 100 bytes, each an IPv4 or IPv6 header and a TCP header:
// a SYN gets a cookie (mss << 32 | cookie), an ACK a check (0 or -EACCES), in results[i].
const PROG = `
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#define NREC 16
#define STRIDE 100
__s64 results[NREC];
SEC("xdp") int cookies(struct xdp_md *ctx) {
  for (int i = 0; i < NREC; i++) {
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    void *rec = data + 14 + i * STRIDE;
    if (rec + STRIDE > end) break;
    __u8 ver = *(__u8 *)rec >> 4;
    if (ver == 4) {
      struct iphdr *iph = rec;
      struct tcphdr *th = rec + 20;
      __u32 len = th->doff * 4;
      if (len < 20 || len > 60) return XDP_ABORTED;
      results[i] = th->syn ? bpf_tcp_raw_gen_syncookie_ipv4(iph, th, len) : bpf_tcp_raw_check_syncookie_ipv4(iph, th);
    } else if (ver == 6) {
      struct ipv6hdr *ip6 = rec;
      struct tcphdr *th = rec + 40;
      __u32 len = th->doff * 4;
      if (len < 20 || len > 60) return XDP_ABORTED;
      results[i] = th->syn ? bpf_tcp_raw_gen_syncookie_ipv6(ip6, th, len) : bpf_tcp_raw_check_syncookie_ipv6(ip6, th);
    }
  }
  return XDP_PASS;
}
char _license[] SEC("license") = "GPL";
`;

const C4 = inet_pton4('192.0.2.7');
const S4 = inet_pton4('10.0.0.1');
const C6 = inet_pton6('2001:db8::7');
const S6 = inet_pton6('2001:db8::1');
const SPORT = 40000;
const DPORT = 80;
const ISN = 0x7ffffff0;
const EACCES = 13;

interface Rec {
  fam: 4 | 6;
  syn: boolean;
  seq: number;
  ack?: number;
  /** The MSS option, none if undefined. */
  mss?: number;
}

function frame(recs: readonly Rec[]): Uint8Array {
  const f = new Uint8Array(14 + 16 * 100);
  const dv = new DataView(f.buffer);
  dv.setUint16(12, 0x0800);
  recs.forEach((r, i) => {
    const o = 14 + i * 100;
    let th: number;
    if (r.fam === 4) {
      f[o] = 0x45;
      f[o + 9] = 6;
      dv.setUint32(o + 12, C4);
      dv.setUint32(o + 16, S4);
      th = o + 20;
    } else {
      f[o] = 0x60;
      f[o + 6] = 6;
      f[o + 7] = 64;
      [C6.w0, C6.w1, C6.w2, C6.w3, S6.w0, S6.w1, S6.w2, S6.w3].forEach((w, k) => dv.setUint32(o + 8 + 4 * k, w));
      th = o + 40;
    }
    dv.setUint16(th, SPORT);
    dv.setUint16(th + 2, DPORT);
    dv.setUint32(th + 4, r.seq >>> 0);
    dv.setUint32(th + 8, (r.ack ?? 0) >>> 0);
    f[th + 12] = (r.mss === undefined ? 5 : 6) << 4;
    f[th + 13] = r.syn ? 0x02 : 0x10;
    dv.setUint16(th + 14, 65535);
    if (r.mss !== undefined) f.set([2, 4, r.mss >>> 8, r.mss & 0xff], th + 20);
  });
  return f;
}

function run(obj: string, recs: readonly Rec[]): bigint[] {
  const r = kernelTestRun(obj, { dataIn: frame(recs) });
  if (r.retval !== 2) throw new Error(`XDP returned ${r.retval}`);
  const hex = r.maps['.bss']![0]!.value;
  const b = Uint8Array.from(hex.match(/../g)!, (x) => parseInt(x, 16));
  const dv = new DataView(b.buffer);
  return recs.map((_, i) => dv.getBigInt64(8 * i, true));
}

const mssOf = (v: bigint): number => Number(v >> 32n);
const cookieOf = (v: bigint): number => Number(v & 0xffffffffn);

const MSS4 = [100, 536, 1299, 1300, 1440, 1459, 1460, 9000];
const MSS6 = [536, 1220, 1419, 1420, 1460, 8940];

kernelTest('SYN cookies agree with the kernel\'s: MSS tables, ISN and index arithmetic, accepted ACKs', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vxo-syncookie-'));
  try {
    const src = join(dir, 'cookies.c');
    const obj = join(dir, 'cookies.o');
    writeFileSync(src, PROG);
    const cc = spawnSync('clang', clangBpfArgs(src, obj), { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`clang: ${cc.stderr}`);

    const gens: Rec[] = [
      ...MSS4.map((mss): Rec => ({ fam: 4, syn: true, seq: ISN, mss })),
      { fam: 4, syn: true, seq: ISN }, // no MSS option: TCP_MSS_DEFAULT, 536
      { fam: 4, syn: true, seq: ISN + 5, mss: 1460 },
      ...MSS6.map((mss): Rec => ({ fam: 6, syn: true, seq: ISN, mss })),
    ];
    let k: bigint[] = [];
    let checks: bigint[] = [];
    // The two runs must fall in one minute of the kernel's cookie counter: the first record is
    // made again at the end of the second run and must come out the same, else start over.
    for (let attempt = 0; attempt < 3; attempt++) {
      k = run(obj, gens);
      const c4 = cookieOf(k[6]!); // mss 1460
      const c6 = cookieOf(k[MSS4.length + 2 + 3]!); // mss 1420
      checks = run(obj, [
        { fam: 4, syn: false, seq: ISN + 1, ack: c4 + 1 },
        { fam: 4, syn: false, seq: ISN + 3, ack: c4 + 1 },
        { fam: 4, syn: false, seq: ISN + 5, ack: c4 + 1 },
        { fam: 4, syn: false, seq: ISN + 1, ack: c4 + 2 },
        { fam: 6, syn: false, seq: ISN + 1, ack: c6 + 1 },
        { fam: 6, syn: false, seq: ISN + 2, ack: c6 + 1 },
        { fam: 6, syn: false, seq: ISN + 3, ack: c6 + 1 },
        gens[0]!,
      ]);
      if (checks[7] === k[0]) break;
    }
    t.is(checks[7], k[0], 'two runs within one minute of the cookie counter');

    // Ours, at some time of our own (one minute throughout).
    const net = new Net(new BootState({ clock: new VirtualClock(3600e9), seed: 7 }));
    const ours4 = gens.slice(0, MSS4.length + 2).map((g) => {
      const mssp = { mss: g.mss ?? 536 };
      return { cookie: __cookie_v4_init_sequence(net, C4, S4, SPORT, DPORT, g.seq, mssp), mss: mssp.mss };
    });
    const ours6 = MSS6.map((mss) => {
      const mssp = { mss };
      return { cookie: __cookie_v6_init_sequence(net, C6, S6, SPORT, DPORT, ISN, mssp), mss: mssp.mss };
    });

    ours4.forEach((o, i) => t.is(o.mss, mssOf(k[i]!), `IPv4 MSS ${gens[i]!.mss ?? 'none'}`));
    ours6.forEach((o, i) => t.is(o.mss, mssOf(k[MSS4.length + 2 + i]!), `IPv6 MSS ${MSS6[i]}`));

    // Differences between cookies of one 4-tuple and minute: the ISN and MSS index differences.
    const diff = (a: number, b: number): number => (a - b) >>> 0;
    for (let i = 1; i < MSS4.length + 2; i++) {
      t.is(diff(cookieOf(k[i]!), cookieOf(k[0]!)), diff(ours4[i]!.cookie, ours4[0]!.cookie), `IPv4 record ${i}`);
    }
    t.is(diff(cookieOf(k[MSS4.length + 1]!), cookieOf(k[6]!)), 5, 'ISN + 5: cookie + 5');
    for (let i = 1; i < MSS6.length; i++) {
      const kk = (j: number): number => cookieOf(k[MSS4.length + 2 + j]!);
      t.is(diff(kk(i), kk(0)), diff(ours6[i]!.cookie, ours6[0]!.cookie), `IPv6 record ${i}`);
    }

    // Which ACKs pass: the kernel's verdicts and ours for the same offsets.
    const c4 = ours4[6]!.cookie;
    const c6 = ours6[3]!.cookie;
    const verdict = (mss: number): bigint => (mss > 0 ? 0n : BigInt(-EACCES));
    t.deepEqual(checks.slice(0, 7), [
      verdict(__cookie_v4_check(net, C4, S4, SPORT, DPORT, ISN, c4)),
      verdict(__cookie_v4_check(net, C4, S4, SPORT, DPORT, ISN + 2, c4)),
      verdict(__cookie_v4_check(net, C4, S4, SPORT, DPORT, ISN + 4, c4)),
      verdict(__cookie_v4_check(net, C4, S4, SPORT, DPORT, ISN, c4 + 1)),
      verdict(__cookie_v6_check(net, C6, S6, SPORT, DPORT, ISN, c6)),
      verdict(__cookie_v6_check(net, C6, S6, SPORT, DPORT, ISN + 1, c6)),
      verdict(__cookie_v6_check(net, C6, S6, SPORT, DPORT, ISN + 2, c6)),
    ]);
    t.deepEqual(checks.slice(0, 7), [0n, 0n, -13n, -13n, 0n, 0n, -13n]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
