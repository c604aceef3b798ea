// The congestion-control registry (tcp_cong.c) and Reno: slow start doubling per round trip,
// additive increase of one segment per round trip, halving on loss, undo, the cwnd-limited gate.
import test from 'ava';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { TCP_CLOSE } from '../../net/core/tcp-states.ts';
import {
  TCP_CONG, type TcpCongestionOps, tcp_assign_congestion_control, tcp_ca_find, tcp_cleanup_congestion_control,
  tcp_cong_avoid_ai, tcp_get_allowed_congestion_control, tcp_get_available_congestion_control, tcp_init_congestion_control,
  tcp_register_congestion_control, tcp_reno, tcp_reno_ssthresh, tcp_reno_undo_cwnd, tcp_set_congestion_control,
  tcp_set_default_congestion_control, tcp_slow_start, tcp_unregister_congestion_control, tcp_ca_openreq_child,
  icsk_ca_setsockopt,
} from '../../net/ipv4/tcp-cong.ts';
import { cubictcp } from '../../net/ipv4/tcp-cubic.ts';
import { TCP_INFINITE_SSTHRESH, TcpSock } from '../../net/ipv4/tcp-sock.ts';
import { AF_INET, IPPROTO_TCP, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { flow } from './tcp-cong-harness.ts';

test('registry: reno and cubic at boot, cubic the default and allowed', (t) => {
  t.is(tcp_get_available_congestion_control(), 'reno cubic');
  t.is(tcp_get_allowed_congestion_control(), 'reno cubic');
  t.is(tcp_ca_find('reno'), tcp_reno);
  t.is(tcp_ca_find('cubic'), cubictcp);
  t.is(tcp_ca_find('bbr'), undefined);
  const f = flow();
  t.is(f.net.ipv4.sysctl_tcp_congestion_control, 'cubic');
  tcp_init_congestion_control(f.sk);
  t.is(f.sk.icsk_ca_ops, cubictcp, 'the netns default');
});

test('tcp_register_congestion_control: required ops, unique names', (t) => {
  const partial = { name: 'half', ssthresh: tcp_reno_ssthresh, cong_avoid: tcp_reno.cong_avoid } as unknown as TcpCongestionOps;
  t.is(tcp_register_congestion_control(partial), -ERRNO.EINVAL, 'no undo_cwnd');
  t.is(tcp_register_congestion_control({ ...tcp_reno }), -ERRNO.EEXIST);
  t.is(tcp_register_congestion_control({ ...tcp_reno, name: 'x'.repeat(16) }), -ERRNO.EINVAL, 'TCP_CA_NAME_MAX');
  let released = 0;
  let inited = 0;
  const mine: TcpCongestionOps = { ...tcp_reno, name: 'test_ca', flags: 0, init: () => { inited++; }, release: () => { released++; } };
  t.is(tcp_register_congestion_control(mine), 0);
  t.is(tcp_get_available_congestion_control(), 'reno cubic test_ca');
  t.is(tcp_get_allowed_congestion_control(), 'reno cubic', 'restricted until made a default');

  const f = flow();
  tcp_init_congestion_control(f.sk);
  t.is(tcp_set_congestion_control(f.sk, 'test_ca', false), -ERRNO.EPERM, 'restricted without CAP_NET_ADMIN');
  t.is(tcp_set_congestion_control(f.sk, 'test_ca'), 0);
  t.is(f.sk.icsk_ca_ops, mine);
  t.is(inited, 1, 'an established socket starts the new algorithm at once');
  t.is(tcp_set_congestion_control(f.sk, 'test_ca'), 0, 'no change');
  t.is(inited, 1);
  t.is(tcp_set_congestion_control(f.sk, 'reno'), 0);
  t.is(released, 1, 'the old one is released');
  tcp_cleanup_congestion_control(f.sk);
  t.is(released, 1);
  tcp_unregister_congestion_control(mine);
  t.is(tcp_ca_find('test_ca'), undefined);
});

test('tcp_set_congestion_control: -ENOENT for an unknown name; a closed socket only records the choice', (t) => {
  const f = flow();
  f.sk.skc_state = TCP_CLOSE;
  tcp_assign_congestion_control(f.sk);
  t.is(tcp_set_congestion_control(f.sk, 'vegas'), -ERRNO.ENOENT);
  t.is(f.sk.icsk_ca_ops, cubictcp);
  t.is(tcp_set_congestion_control(f.sk, 'reno'), 0);
  t.is(f.sk.icsk_ca_ops, tcp_reno);
  t.is(f.sk.icsk_ca_priv, null);
});

test('tcp_set_default_congestion_control: the netns sysctl, -ENOENT for unknown; a gone default falls back to reno', (t) => {
  const f = flow();
  t.is(tcp_set_default_congestion_control(f.net, 'nope'), -ERRNO.ENOENT);
  t.is(tcp_set_default_congestion_control(f.net, 'reno'), 0);
  t.is(f.net.ipv4.sysctl_tcp_congestion_control, 'reno');
  tcp_assign_congestion_control(f.sk);
  t.is(f.sk.icsk_ca_ops, tcp_reno);
  f.net.ipv4.sysctl_tcp_congestion_control = 'gone';
  tcp_assign_congestion_control(f.sk);
  t.is(f.sk.icsk_ca_ops, tcp_reno);
});

test('tcp_ca_openreq_child: a child keeps a TCP_CONGESTION choice, else takes the netns default of now', (t) => {
  const l = flow('cubic');
  tcp_assign_congestion_control(l.sk);
  const sock = (): TcpSock => new TcpSock(l.net, AF_INET, SOCK_STREAM, IPPROTO_TCP, 0);
  const child = sock();
  l.net.ipv4.sysctl_tcp_congestion_control = 'reno';
  tcp_ca_openreq_child(child, l.sk);
  t.is(child.icsk_ca_ops, tcp_reno, 'the default changed after listen(): the child takes the new one');
  t.false(icsk_ca_setsockopt(child));
  t.is(tcp_set_congestion_control(l.sk, 'cubic'), 0);
  t.true(icsk_ca_setsockopt(l.sk), 'set even when it was already the one in use');
  const child2 = sock();
  child2.icsk_ca_state = 4;
  tcp_ca_openreq_child(child2, l.sk);
  t.is(child2.icsk_ca_ops, cubictcp);
  t.true(icsk_ca_setsockopt(child2));
  t.is(child2.icsk_ca_state, 0, 'TCP_CA_Open');
});

test('tcp_slow_start and tcp_cong_avoid_ai as tcp_cong.c', (t) => {
  const { sk } = flow('reno');
  sk.snd_cwnd = 10;
  sk.snd_ssthresh = 15;
  t.is(tcp_slow_start(sk, 3), 0);
  t.is(sk.snd_cwnd, 13);
  t.is(tcp_slow_start(sk, 4), 2, 'stops at ssthresh and returns the rest');
  t.is(sk.snd_cwnd, 15);
  sk.snd_cwnd_cnt = 0;
  tcp_cong_avoid_ai(sk, 15, 14);
  t.is(sk.snd_cwnd, 15);
  t.is(sk.snd_cwnd_cnt, 14);
  tcp_cong_avoid_ai(sk, 15, 17);
  t.is(sk.snd_cwnd, 17, 'two windows\' worth of credit: +2');
  t.is(sk.snd_cwnd_cnt, 1);
  sk.snd_cwnd_cnt = 40;
  tcp_cong_avoid_ai(sk, 17, 0);
  t.is(sk.snd_cwnd, 18, 'credit from a larger w applies one segment');
  t.is(sk.snd_cwnd_cnt, 0);
  sk.snd_cwnd_clamp = 18;
  tcp_cong_avoid_ai(sk, 18, 100);
  t.is(sk.snd_cwnd, 18, 'snd_cwnd_clamp');
});

test('Reno: slow start doubles cwnd every round trip', (t) => {
  const f = flow('reno');
  tcp_init_congestion_control(f.sk);
  t.is(f.sk.snd_ssthresh, TCP_INFINITE_SSTHRESH);
  const seen: number[] = [f.sk.snd_cwnd];
  for (let r = 0; r < 5; r++) {
    f.round(50_000);
    seen.push(f.sk.snd_cwnd);
  }
  t.deepEqual(seen, [10, 20, 40, 80, 160, 320]);
});

test('Reno with delayed ACKs (2 segments each): still doubling in slow start, +1 per round trip after (byte counting)', (t) => {
  const f = flow('reno');
  tcp_init_congestion_control(f.sk);
  for (let r = 0; r < 4; r++) f.round(50_000, { per_ack: 2 });
  t.is(f.sk.snd_cwnd, 160);
  f.sk.snd_ssthresh = 160;
  for (let r = 0; r < 4; r++) f.round(50_000, { per_ack: 2 });
  t.is(f.sk.snd_cwnd, 164);
});

test('Reno AIMD: +1 segment per round trip, halved on loss, never below 2; undo restores', (t) => {
  const f = flow('reno');
  const sk = f.sk;
  tcp_init_congestion_control(sk);
  sk.snd_cwnd = 40;
  sk.snd_ssthresh = 40;
  for (let r = 0; r < 10; r++) f.round(20_000);
  t.is(sk.snd_cwnd, 50, 'ten round trips in congestion avoidance');
  // A loss (tcp_enter_recovery / tcp_init_cwnd_reduction): ssthresh = cwnd / 2, cwnd brought down to it.
  sk.prior_cwnd = sk.snd_cwnd;
  sk.snd_ssthresh = sk.icsk_ca_ops!.ssthresh(sk);
  t.is(sk.snd_ssthresh, 25);
  sk.snd_cwnd = sk.snd_ssthresh;
  for (let r = 0; r < 5; r++) f.round(20_000);
  t.is(sk.snd_cwnd, 30);
  t.is(tcp_reno_undo_cwnd(sk), 50, 'undo: the window before the reduction');
  sk.snd_cwnd = 3;
  t.is(tcp_reno_ssthresh(sk), 2);
  sk.snd_cwnd = 2;
  t.is(tcp_reno_ssthresh(sk), 2);
});

test('Reno grows only while cwnd limits sending (tcp_is_cwnd_limited)', (t) => {
  const f = flow('reno');
  tcp_init_congestion_control(f.sk);
  f.sk.snd_cwnd = 30;
  f.sk.snd_ssthresh = 20;
  f.round(10_000, { limited: false });
  t.is(f.sk.snd_cwnd, 30);
  f.sk.snd_ssthresh = TCP_INFINITE_SSTHRESH;
  f.sk.max_packets_out = 15; // slow start: limited only while cwnd < 2 * max_packets_out
  f.sk.icsk_ca_ops!.cong_avoid(f.sk, 0, 1);
  t.is(f.sk.snd_cwnd, 30);
  t.is(TCP_CONG.TCP_CONG_NON_RESTRICTED, 1);
});
