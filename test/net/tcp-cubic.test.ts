// CUBIC (tcp_cubic.c): cubic_root against cbrt, the reduction to beta = 717/1024 with fast
// convergence, the window following W(t) = C (t - K)^3 + W_max on a fake ACK clock, the TCP-friendly
// region where the Reno estimate leads, HyStart leaving slow start on an ACK train or an RTT
// increase (with its TcpExt counters), the idle shift of CA_EVENT_TX_START and the loss reset.
import test from 'ava';
import { TCP_CA, TCP_INFINITE_SSTHRESH, tcp_in_slow_start } from '../../net/ipv4/tcp-sock.ts';
import { CA_EVENT, tcp_init_congestion_control } from '../../net/ipv4/tcp-cong.ts';
import {
  BICTCP_BETA_SCALE, BicTcp, beta_scale, cube_factor, cube_rtt_scale, cubic_params, cubic_root, cubictcp, inet_csk_ca,
} from '../../net/ipv4/tcp-cubic.ts';
import { flow, type Flow } from './tcp-cong-harness.ts';

test('the scale factors cubictcp_register computes', (t) => {
  t.is(cubic_params.beta, 717);
  t.is(beta_scale, 15);
  t.is(cube_rtt_scale, 410);
  t.is(cube_factor, Math.floor(2 ** 40 / 410));
});

test('cubic_root: the table estimate plus one Newton step, within 0.5% (+1) of cbrt over the u64 range', (t) => {
  // Small inputs come straight from the table.
  t.deepEqual([0, 1, 7, 8, 26, 27, 63].map((a) => cubic_root(a)), [0, 1, 2, 2, 3, 3, 4]);
  for (let e = 6; e < 63; e++) {
    for (const m of [1, 1.3, 1.7, 1.99]) {
      const a = BigInt(Math.floor(m * 2 ** 20)) << BigInt(e - 20 > 0 ? e - 20 : 0);
      const want = Math.cbrt(Number(a));
      const got = cubic_root(a);
      t.true(Math.abs(got - want) <= want * 0.005 + 1, `cbrt(${a}) = ${want}, got ${got}`);
    }
  }
  t.is(cubic_root(1_000_000_000), cubic_root(1_000_000_000n));
  // By hand, as the kernel runs it, for W_max - cwnd = 30: fls64 = 37, b = 11, shift = 9, v = 129,
  // x = 139 << 11 >> 6 = 4448, then (2 * 4448 + a / (4448 * 4447)) * 341 >> 10 = 4316 (cbrt: 4317.5).
  t.is(cubic_root(cube_factor * 30), 4316);
});

function cubicFlow(start_s?: number): Flow {
  const f = flow('cubic', 1, start_s);
  tcp_init_congestion_control(f.sk);
  t_assertCubic(f);
  return f;
}

function t_assertCubic(f: Flow): void {
  if (f.sk.icsk_ca_ops !== cubictcp) throw new Error('not cubic');
}

/** A loss in Open state as tcp_enter_recovery does it: ssthresh from the algorithm, cwnd down to it. */
function loss(f: Flow): void {
  const sk = f.sk;
  sk.prior_cwnd = sk.snd_cwnd;
  sk.snd_ssthresh = sk.icsk_ca_ops!.ssthresh(sk);
  sk.snd_cwnd = sk.snd_ssthresh;
  sk.snd_cwnd_cnt = 0;
}

test('after a loss cwnd = 0.7 W (717/1024); fast convergence lowers W_max when the loss comes below it', (t) => {
  const f = cubicFlow();
  const sk = f.sk;
  sk.snd_cwnd = 100;
  sk.snd_ssthresh = 100;
  loss(f);
  t.is(sk.snd_cwnd, Math.floor((100 * 717) / BICTCP_BETA_SCALE));
  t.is(sk.snd_cwnd, 70);
  t.is(inet_csk_ca(sk).last_max_cwnd, 100);
  sk.snd_cwnd = 90;
  loss(f);
  t.is(sk.snd_cwnd, 63);
  t.is(inet_csk_ca(sk).last_max_cwnd, Math.floor((90 * (1024 + 717)) / 2048), 'W_max = 90 (1 + beta) / 2');
  sk.snd_cwnd = 2;
  t.is(cubictcp.ssthresh(sk), 2, 'never below 2');
  t.is(cubictcp.undo_cwnd(sk), Math.max(2, sk.prior_cwnd));
});

for (const [what, start_s] of [['', 1000], [' (tcp_jiffies32 wrapping mid-epoch)', 2 ** 32 / 1000 - 3]] as const)
test(`congestion avoidance follows the cubic curve W(t) = 0.4 (t - K)^3 + W_max, K as the kernel computes it${what}`, (t) => {
  const f = cubicFlow(start_s);
  const sk = f.sk;
  const rtt = 100_000;
  sk.snd_cwnd = 100;
  sk.snd_ssthresh = 100;
  f.round(rtt); // delay_min = 100 ms
  sk.snd_cwnd = 100;
  loss(f);
  const ca = inet_csk_ca(sk);
  f.round(rtt); // the epoch starts with this round's first ACK
  const epoch_ns = (((ca.epoch_start - Math.floor(f.clock.ktime_get_ns() / 1e6)) | 0) * 1e6) + f.clock.ktime_get_ns();
  const K = ca.bic_K / 1024;
  t.is(ca.bic_K, cubic_root(cube_factor * 30));
  t.true(Math.abs(K - Math.cbrt(30 / 0.4)) < 0.02, `K = ${K} s, cbrt(W_max (1 - beta) / C) = ${Math.cbrt(75)}`);
  t.is(ca.bic_origin_point, 100);
  const checks: [number, number][] = [];
  while (f.clock.ktime_get_ns() - epoch_ns < 2.2 * K * 1e9) {
    f.round(rtt);
    const tau = (f.clock.ktime_get_ns() - epoch_ns) / 1e9;
    // The kernel aims cwnd at the curve one minimum RTT ahead; the window set during a round is
    // reached at its end, so cwnd now sits on W(tau).
    const W = 0.4 * (tau - K) ** 3 + 100;
    checks.push([sk.snd_cwnd, W]);
    t.true(Math.abs(sk.snd_cwnd - W) <= 2 + W * 0.02, `t = ${tau.toFixed(2)} s: cwnd ${sk.snd_cwnd}, W(t) = ${W.toFixed(1)}`);
  }
  t.true(checks.length > 60);
  // Concave up to W_max, flat around K, convex after.
  const at = (frac: number): number => checks[Math.floor(checks.length * frac)]![0];
  t.true(at(0.2) - at(0.05) > at(0.45) - at(0.3), 'growth slows approaching W_max');
  t.true(at(0.95) - at(0.8) > at(0.45) - at(0.3), 'and speeds up past it');
});

test('TCP-friendly region: on a short RTT the Reno estimate (3 (1 - beta) / (1 + beta) per RTT) leads the cubic curve', (t) => {
  const f = cubicFlow();
  const sk = f.sk;
  const rtt = 1000; // 1 ms: K = 2.5 s is 2500 round trips away
  sk.snd_cwnd = 20;
  sk.snd_ssthresh = 20;
  f.round(rtt);
  sk.snd_cwnd = 20;
  loss(f);
  t.is(sk.snd_cwnd, 14);
  const start = sk.snd_cwnd;
  const rounds = 200;
  for (let r = 0; r < rounds; r++) f.round(rtt);
  const ca = inet_csk_ca(sk);
  const tau = rounds * rtt / 1e6;
  const cubicW = 0.4 * (tau - ca.bic_K / 1024) ** 3 + 20;
  const renoW = start + (rounds * 3 * (1024 - 717)) / (1024 + 717);
  t.true(sk.snd_cwnd > cubicW + 50, `cwnd ${sk.snd_cwnd} far above the cubic curve ${cubicW.toFixed(1)}`);
  t.true(Math.abs(sk.snd_cwnd - renoW) <= renoW * 0.1, `cwnd ${sk.snd_cwnd} ~ Reno-friendly ${renoW.toFixed(1)}`);
  t.true(ca.tcp_cwnd >= sk.snd_cwnd - 1);

  // With tcp_friendliness off the same flow stays on the (here nearly flat) cubic curve.
  cubic_params.tcp_friendliness = 0;
  try {
    const g = cubicFlow();
    g.sk.snd_cwnd = 20;
    g.sk.snd_ssthresh = 20;
    g.round(rtt);
    g.sk.snd_cwnd = 20;
    loss(g);
    for (let r = 0; r < rounds; r++) g.round(rtt);
    t.true(g.sk.snd_cwnd <= 20, `cwnd ${g.sk.snd_cwnd} without the Reno estimate`);
  } finally {
    cubic_params.tcp_friendliness = 1;
  }
});

test('without a W_max yet, congestion avoidance grows at least 5% per round trip (cnt <= 20)', (t) => {
  const f = cubicFlow();
  const sk = f.sk;
  sk.snd_cwnd = 100;
  sk.snd_ssthresh = 50;
  f.round(100_000);
  const before = sk.snd_cwnd;
  for (let r = 0; r < 5; r++) f.round(100_000);
  t.true(sk.snd_cwnd >= Math.floor(before * 1.05 ** 5) - 2, `${before} -> ${sk.snd_cwnd}`);
});

test('HyStart delay detection: an RTT increase over delay_min + clamp(delay_min / 8, 4, 16 ms) ends slow start', (t) => {
  const f = cubicFlow();
  const sk = f.sk;
  const mib = f.net.mib.net;
  t.is(sk.snd_ssthresh, TCP_INFINITE_SSTHRESH);
  // ACKs 2.5 ms or more apart never form a train (hystart_ack_delta_us = 2 ms).
  f.round(100_000); // 10 -> 20
  f.round(100_000); // 20 -> 40, samples of 100 ms
  t.true(tcp_in_slow_start(sk));
  t.is(mib.TCPHystartDelayDetect, 0);
  f.round(110_000); // +10 ms < 12.5 ms: not yet
  t.true(tcp_in_slow_start(sk));
  t.is(mib.TCPHystartDelayDetect, 0);
  const cwnd0 = sk.snd_cwnd;
  f.round(113_000); // +13 ms: detected on the ninth sample of the round
  t.is(mib.TCPHystartDelayDetect, 1);
  t.is(mib.TCPHystartTrainDetect, 0);
  t.is(sk.snd_ssthresh, cwnd0 + 8, 'ssthresh = cwnd when found: 8 samples, compared on the 9th ACK before it grows cwnd');
  t.is(mib.TCPHystartDelayCwnd, sk.snd_ssthresh);
  t.false(tcp_in_slow_start(sk));
  t.is(inet_csk_ca(sk).found, 1);
  t.is(inet_csk_ca(sk).delay_min, 100_000);
});

test('HyStart ACK train: ACKs less than 2 ms apart for longer than delay_min / 2 end slow start', (t) => {
  const f = cubicFlow();
  const sk = f.sk;
  const mib = f.net.mib.net;
  f.round(10_000); // 10 -> 20: below hystart_low_window (16) nothing is checked
  t.is(mib.TCPHystartTrainDetect, 0);
  f.round(10_000); // 20 ACKs 500 us apart: the train passes 5 ms at the 12th
  t.is(mib.TCPHystartTrainDetect, 1);
  t.is(mib.TCPHystartDelayDetect, 0);
  t.false(tcp_in_slow_start(sk));
  t.is(mib.TCPHystartTrainCwnd, sk.snd_ssthresh);
  t.true(sk.snd_ssthresh > 20 && sk.snd_ssthresh < 40);
});

test('hystart off (module parameter): slow start runs until a loss', (t) => {
  cubic_params.hystart = 0;
  try {
    const f = cubicFlow();
    for (let r = 0; r < 5; r++) f.round(10_000);
    t.is(f.sk.snd_cwnd, 320);
    t.is(f.net.mib.net.TCPHystartTrainDetect, 0);
  } finally {
    cubic_params.hystart = 1;
  }
});

test('pkts_acked: no sample without an RTT, none in the first second of an epoch; delay_min is the minimum', (t) => {
  const f = cubicFlow();
  const sk = f.sk;
  const ca = inet_csk_ca(sk);
  cubictcp.pkts_acked!(sk, { pkts_acked: 1, rtt_us: -1, in_flight: 0 });
  t.is(ca.delay_min, 0);
  cubictcp.pkts_acked!(sk, { pkts_acked: 1, rtt_us: 0, in_flight: 0 });
  t.is(ca.delay_min, 1, 'a 0 us RTT counts as 1');
  ca.delay_min = 0;
  cubictcp.pkts_acked!(sk, { pkts_acked: 1, rtt_us: 5000, in_flight: 0 });
  cubictcp.pkts_acked!(sk, { pkts_acked: 1, rtt_us: 7000, in_flight: 0 });
  t.is(ca.delay_min, 5000);
  ca.epoch_start = Math.floor(f.clock.ktime_get_ns() / 1e6) >>> 0;
  f.clock.advance(999e6);
  cubictcp.pkts_acked!(sk, { pkts_acked: 1, rtt_us: 3000, in_flight: 0 });
  t.is(ca.delay_min, 5000, 'within a second of the reduction');
  f.clock.advance(1e6);
  cubictcp.pkts_acked!(sk, { pkts_acked: 1, rtt_us: 3000, in_flight: 0 });
  t.is(ca.delay_min, 3000);
});

test('CA_EVENT_TX_START after idle moves the epoch forward by the idle time, never past now', (t) => {
  const f = cubicFlow();
  const sk = f.sk;
  sk.snd_cwnd = 50;
  sk.snd_ssthresh = 50;
  f.round(50_000);
  loss(f);
  f.round(50_000);
  const ca = inet_csk_ca(sk);
  const e0 = ca.epoch_start;
  t.not(e0, 0);
  sk.lsndtime = Math.floor(f.clock.ktime_get_ns() / 1e6) >>> 0;
  f.clock.advance(3e9);
  cubictcp.cwnd_event!(sk, CA_EVENT.CA_EVENT_TX_START);
  t.is(ca.epoch_start, e0 + 3000);
  sk.lsndtime = 0; // an idle time longer than the epoch: capped at now
  cubictcp.cwnd_event!(sk, CA_EVENT.CA_EVENT_TX_START);
  t.is(ca.epoch_start, Math.floor(f.clock.ktime_get_ns() / 1e6) >>> 0);
  cubictcp.cwnd_event!(sk, CA_EVENT.CA_EVENT_LOSS);
  t.is(ca.epoch_start, Math.floor(f.clock.ktime_get_ns() / 1e6) >>> 0, 'other events: nothing');
});

test('TCP_CA_Loss resets the cubic state and starts a HyStart round', (t) => {
  const f = cubicFlow();
  const sk = f.sk;
  sk.snd_cwnd = 60;
  sk.snd_ssthresh = 60;
  f.round(20_000);
  loss(f);
  f.round(20_000);
  const ca = inet_csk_ca(sk);
  t.not(ca.last_max_cwnd, 0);
  cubictcp.set_state!(sk, TCP_CA.TCP_CA_Recovery);
  t.not(ca.last_max_cwnd, 0);
  cubictcp.set_state!(sk, TCP_CA.TCP_CA_Loss);
  t.is(ca.last_max_cwnd, 0);
  t.is(ca.epoch_start, 0);
  t.is(ca.delay_min, 0);
  t.is(ca.curr_rtt, 0xffffffff);
  t.is(ca.end_seq, sk.snd_nxt);
  t.true(new BicTcp().cnt === 0);
});
