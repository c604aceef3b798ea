// Socket cookies (sock_gen_cookie): 0 until first asked for, then a per-boot counter from 1, stable
// for the socket's life, unique across the netns of one boot, and carried by a TIME_WAIT socket.
import test from 'ava';
import { BootState } from '../../net/core/boot-state.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { sock_gen_cookie } from '../../net/core/sock-diag.ts';
import { TCP_TIME_WAIT } from '../../net/core/tcp-states.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { inet_twsk_alloc } from '../../net/ipv4/inet-timewait-sock.ts';
import { stack, tcpSock, udpSock } from './helpers.ts';

test('cookies are assigned on first use from 1, stable, unique per boot across netns', (t) => {
  const s = stack();
  const a = tcpSock(s);
  const b = udpSock(s);
  t.is(a.skc_cookie, 0, 'not assigned until asked for');
  t.is(sock_gen_cookie(b), 1);
  t.is(sock_gen_cookie(a), 2);
  t.is(sock_gen_cookie(b), 1, 'stable');
  const other = new Net(s.boot);
  const c = tcpSock(s, { net: other });
  t.is(sock_gen_cookie(c), 3, 'one counter for every netns of the boot');
  const many = Array.from({ length: 1000 }, () => sock_gen_cookie(udpSock(s)));
  t.is(new Set(many).size, 1000);
  t.is(Math.min(...many), 4);

  const fresh = new Net(new BootState({ clock: new VirtualClock(), seed: 9 }));
  t.is(sock_gen_cookie(udpSock(s, { net: fresh })), 1, 'another boot counts from 1');
  t.is(fresh.net_cookie, 1);
  t.is(other.net_cookie, s.net.net_cookie + 1);
});

test('a TIME_WAIT socket keeps the cookie of the connection it stands for', (t) => {
  const s = stack();
  const sk = tcpSock(s);
  const cookie = sock_gen_cookie(sk);
  const tw = inet_twsk_alloc(sk, TCP_TIME_WAIT);
  t.is(sock_gen_cookie(tw), cookie);
});
