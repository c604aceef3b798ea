// The packetdrill language without a stack: the lexer's cuts, the parser's tree, the errors a
// malformed script gets (line, column, construct), wire bytes and their parse, the ISN mapping,
// the field-by-field comparison, and the sysctl lines.
import test from 'ava';
import { tokenize } from '../scenarios/packetdrill/lexer.ts';
import { parseScript } from '../scenarios/packetdrill/parser.ts';
import { ScriptError } from '../scenarios/packetdrill/errors.ts';
import type { TcpPacketSpec } from '../scenarios/packetdrill/ast.ts';
import { buildTcpPacket, parsePacket, TCPHDR, type IpAddr } from '../scenarios/packetdrill/packet-build.ts';
import { actualView, mapInbound, newSut, scriptView, tcpViewText, verifyTcp, type MatchConfig } from '../scenarios/packetdrill/packet-match.ts';
import { runCommand } from '../scenarios/packetdrill/sysctl.ts';
import { makeConfig } from '../scenarios/packetdrill/config.ts';
import { BootState } from '../net/core/boot-state.ts';
import { VirtualClock } from '../net/core/virtual-clock.ts';
import { Net } from '../net/core/net-namespace.ts';
import { inet_pton4 } from '../net/core/inet-addr.ts';

function parseError(src: string): ScriptError {
  const e = (() => {
    try {
      parseScript(src, 'bad.pkt');
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  if (!(e instanceof ScriptError)) throw new Error(`expected a ScriptError for ${JSON.stringify(src)}, got ${String(e)}`);
  return e;
}

test('lexer: sequence ranges, floats, addresses and the ellipsis cut as flex cuts them', (t) => {
  const kinds = (s: string): string[] => tokenize(s, 'x').filter((k) => k.kind !== 'eof').map((k) => `${k.kind}:${k.text}`);
  t.deepEqual(kinds('1:1001(1000)'), ['int:1', 'punct::', 'int:1001', 'punct:(', 'int:1000', 'punct:)']);
  t.deepEqual(kinds('+.04 > S. 0:0(0)'), ['punct:+', 'float:.04', 'punct:>', 'word:S', 'punct:.', 'int:0', 'punct::', 'int:0', 'punct:(', 'int:0', 'punct:)']);
  t.deepEqual(kinds('+0...0.2 connect'), ['punct:+', 'int:0', 'ellipsis:...', 'float:0.2', 'word:connect']);
  t.deepEqual(kinds('192.0.2.1 fd3d:fa7b:d17d::1 0x1f -1'), ['ipv4:192.0.2.1', 'ipv6:fd3d:fa7b:d17d::1', 'hex:0x1f', 'int:-1']);
  t.deepEqual(kinds('a // comment\n/* block\n */ b'), ['word:a', 'word:b']);
  const toks = tokenize('x\n  y', 'f');
  t.deepEqual(toks[1]!.loc, { line: 2, col: 3 });
  const opt = tokenize('--ip_version=ipv4-mapped-ipv6 --tcp_ts_ecr_scaled', 'f');
  t.is(opt[0]!.kind, 'option');
  t.is(opt[0]!.option_value, 'ipv4-mapped-ipv6');
  t.is(opt[1]!.option_value, undefined);
});

test('parser: a complete script, its options, times, packets and calls', (t) => {
  const s = parseScript(`--tolerance_usecs=10000
\`sysctl -q net.ipv4.tcp_syncookies=2\`
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0  connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0  > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
+.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,sackOK,TS val 700 ecr 100,nop,wscale 7>
0.1~0.2 > . 1:1(0) ack 1 <nop,nop,TS val 110 ecr 700>
*   > P. 1:1001(1000) ack 1 <...>
+0  < . 1:1(0) ack 1001 win 257 <sack 1:1001 2001:3001,nop,nop>
+0...0.5 read(3, ..., 1000) = 1000
+0  setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0
+0  < R 1:1(0) win 0
`, 's.pkt');
  t.deepEqual(s.options, [{ name: 'tolerance_usecs', value: '10000', loc: { line: 1, col: 1 } }]);
  t.is(s.events.length, 13);
  t.deepEqual(s.events[0]!.action, { kind: 'command', text: 'sysctl -q net.ipv4.tcp_syncookies=2' });
  t.is(s.events[0]!.time, undefined);
  t.deepEqual(s.events[1]!.time, { kind: 'absolute', usecs: 0 });
  const conn = s.events[4]!.action;
  t.is(conn.kind, 'syscall');
  if (conn.kind === 'syscall') {
    t.is(conn.syscall.name, 'connect');
    t.deepEqual(conn.syscall.result, { kind: 'int', value: -1, loc: { line: 6, col: 28 } });
    t.is(conn.syscall.errno?.name, 'EINPROGRESS');
  }
  const fcntl = s.events[3]!.action;
  if (fcntl.kind === 'syscall') t.is(fcntl.syscall.args[2]!.kind, 'or');
  const syn = s.events[5]!.action;
  t.is(syn.kind, 'packet');
  if (syn.kind === 'packet' && syn.packet.proto === 'tcp') {
    t.is(syn.packet.direction, '>');
    t.is(syn.packet.flags, 'S');
    t.is(syn.packet.win, undefined);
    t.deepEqual(syn.packet.options, [{ kind: 'mss', mss: 1460 }, { kind: 'sackOK' }, { kind: 'ts', val: 100, ecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }]);
  }
  t.deepEqual(s.events[6]!.time, { kind: 'relative', usecs: 100000 });
  t.deepEqual(s.events[7]!.time, { kind: 'absolute_range', usecs: 100000, end: 200000 });
  t.deepEqual(s.events[8]!.time, { kind: 'any' });
  const data = s.events[8]!.action;
  if (data.kind === 'packet' && data.packet.proto === 'tcp') {
    t.is(data.packet.flags, 'P.');
    t.is(data.packet.len, 1000);
    t.is(data.packet.options, null);
  }
  const sack = s.events[9]!.action;
  if (sack.kind === 'packet' && sack.packet.proto === 'tcp') t.deepEqual(sack.packet.options![0], { kind: 'sack', blocks: [[1, 1001], [2001, 3001]] });
  const read = s.events[10]!.action;
  if (read.kind === 'syscall') t.is(read.syscall.end_usecs, 500000);
  const linger = s.events[11]!.action;
  if (linger.kind === 'syscall') t.is(linger.syscall.args[3]!.kind, 'struct');
  const rst = s.events[12]!.action;
  if (rst.kind === 'packet' && rst.packet.proto === 'tcp') t.is(rst.packet.flags, 'R');
});

test('parser: udp, icmp, flag-less segments and explicit ports', (t) => {
  const s = parseScript('0 < udp (100)\n+0 > icmp unreachable port_unreachable\n+0 < 1234>8080 - 0:0(0) win 0\n+0 > [ect0] . 1:1(0) ack 1\n'
    + '+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]\n+0 < udp 40000>9 (5)\n');
  const [u, i, n, e, f, p] = s.events.map((x) => x.action);
  t.like(f, { kind: 'packet', packet: { proto: 'icmp', type: 'unreachable', code: 'frag_needed', mtu: 1200, echoed: { proto: 'tcp', seq: 1, len: 1460 } } });
  t.like(p, { kind: 'packet', packet: { proto: 'udp', src_port: 40000, dst_port: 9, len: 5 } });
  t.like(u, { kind: 'packet', packet: { proto: 'udp', len: 100 } });
  t.like(i, { kind: 'packet', packet: { proto: 'icmp', type: 'unreachable', code: 'port_unreachable' } });
  t.like(n, { kind: 'packet', packet: { proto: 'tcp', flags: '', src_port: 1234, dst_port: 8080 } });
  t.like(e, { kind: 'packet', packet: { proto: 'tcp', ip: { tos_check: 'ecn', tos: 2 } } });
});

test('malformed scripts: the error names the line, the column and the construct', (t) => {
  const cases: [string, number, number, RegExp][] = [
    ['0 < S 0:0(0) <mss 1000>\n', 1, 3, /window must be specified for inbound packets/],
    ['0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:10(0)\n', 2, 10, /inconsistent TCP sequence numbers and payload size: 0:10\(0\)/],
    ['0 > Q 0:0(0)\n', 1, 5, /invalid TCP flags 'Q'/],
    ['0 < S 0:0(0) win 100 <...>\n', 1, 22, /<\.\.\.> for TCP options can only be used with outbound packets/],
    ['* socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n', 1, 3, /event time \* can only be used with outbound packets/],
    ['0 > S 0:0(0) <mss 1460,nop>\n', 1, 14, /not padded correctly.*1 excess bytes/],
    ['0 > S 0:0(0) <FO abcd,nop,nop>\n', 1, 15, /unsupported construct: TCP Fast Open option FO/],
    ['0 > S 0:0(0) <mss 1460,bogus 3>\n', 1, 24, /unknown TCP option 'bogus'/],
    ['0 %{ print(1) }%\n', 1, 3, /unsupported construct: %\{ \}% code snippets/],
    ['0 socket(..., SOCK_STREAM, IPPROTO_TCP)\n+0 close(3) = 0\n', 2, 1, /expected '=' and the expected result after socket/],
    ['0 > ipv4 1.2.3.4 > 5.6.7.8: S 0:0(0)\n', 1, 5, /unsupported construct: ipv4 encapsulation prefix/],
    ['0 close(3) = 0\n/* never closed\n', 2, 1, /unterminated \/\* comment/],
    ['0 > S 0:0(0) {mut tcp mss}\n', 1, 14, /unsupported construct: packet fuzzing block/],
    ['0.2~0.1 > S 0:0(0)\n', 1, 9, /time range is backwards/],
    ['hello\n', 1, 1, /expected an event time/],
  ];
  for (const [src, line, col, re] of cases) {
    const e = parseError(src);
    t.regex(e.message, re, src);
    t.deepEqual(e.loc, { line, col }, `${src} -> ${e.message}`);
    t.true(e.message.startsWith(`bad.pkt:${line}:${col}: error: `));
  }
});

test('wire bytes: a built segment parses back with its options and a correct checksum', (t) => {
  const src: IpAddr = { family: 4, v4: inet_pton4('192.0.2.1') };
  const dst: IpAddr = { family: 4, v4: inet_pton4('192.168.0.1') };
  const b = buildTcpPacket(src, dst, { tos: 0, ttl: 0, flowlabel: 0 }, {
    sport: 40000, dport: 8080, seq: 0xfffffff0, ack: 5, flags: TCPHDR.SYN | TCPHDR.ACK, win: 5792, urg: 0,
    options: [{ kind: 'mss', mss: 1460 }, { kind: 'sackOK' }, { kind: 'ts', val: 700, ecr: 100 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }],
    payload_len: 10,
  });
  t.is(b.length, 20 + 20 + 20 + 10);
  const p = parsePacket(b)!;
  t.true(p.ip_csum_ok);
  t.is(p.tcp!.seq, 0xfffffff0);
  t.is(p.tcp!.doff, 40);
  t.is(p.tcp!.payload_len, 10);
  t.deepEqual(p.tcp!.options[2], { kind: 'ts', val: 700, ecr: 100 });
  // The TCP checksum over pseudo-header, header and payload folds to zero.
  let sum = 0xc000 + 0x0201 + 0xc0a8 + 0x0001 + 6 + 50;
  for (let i = 20; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  t.is(sum, 0xffff);
});

const cfg: MatchConfig = { tolerance_usecs: 4000, tcp_ts_tick_usecs: 0, tcp_ts_ecr_scaled: false, check_ts_ecr: true };

function tcpSpec(line: string): TcpPacketSpec {
  const a = parseScript(`0 ${line}\n`).events[0]!.action;
  if (a.kind !== 'packet' || a.packet.proto !== 'tcp') throw new Error('not tcp');
  return a.packet;
}

test('ISNs: script numbers map to live ones and back, as tcpdump numbers them', (t) => {
  const s = newSut('passive_packet_received', 'tcp');
  s.script_remote_isn = s.live_remote_isn = 0;
  s.local = { ip: { family: 4, v4: 1 }, port: 8080 };
  s.remote = { ip: { family: 4, v4: 2 }, port: 40000 };
  // The stack's SYN-ACK picked ISN 1000000; the script wrote 0.
  s.script_local_isn = 0;
  s.live_local_isn = 1000000;
  const synack = tcpSpec('> S. 0:0(0) ack 1 <mss 1460,nop,nop,TS val 5 ecr 0,nop,wscale 7>');
  const live = parsePacket(buildTcpPacket({ family: 4, v4: 1 }, { family: 4, v4: 2 }, { tos: 0, ttl: 64, flowlabel: 0 }, {
    sport: 8080, dport: 40000, seq: 1000000, ack: 1, flags: TCPHDR.SYN | TCPHDR.ACK, win: 65535, urg: 0,
    options: [{ kind: 'mss', mss: 1460 }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: 777777, ecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }], payload_len: 0,
  }))!;
  const act = actualView(live, synack, s);
  t.is(act.seq, 0);
  t.is(act.ack, 1);
  t.is(verifyTcp(scriptView(synack), act, live, cfg), undefined);
  t.is(tcpViewText(act), 'S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,TS val 5 ecr 0,nop,wscale 7>');
  // The inbound ACK's ecr 5 is the live TS val 777777 that went out as script val 5.
  const ack = mapInbound(tcpSpec('< . 1:1001(1000) ack 1 win 257 <nop,nop,TS val 9 ecr 5>'), s, cfg);
  t.is(ack.seq, 1);
  t.is(ack.ack, 1000001);
  t.deepEqual(ack.options[2], { kind: 'ts', val: 9, ecr: 777777 });
  t.throws(() => mapInbound(tcpSpec('< . 1:1(0) ack 1 win 257 <nop,nop,TS val 9 ecr 6>'), s, cfg), { message: /unable to infer live TS ecr for script TS ecr 6/ });
  // A data segment from the stack at live seq 1000001 is script seq 1; a wrong ack is named field by field.
  const data = parsePacket(buildTcpPacket({ family: 4, v4: 1 }, { family: 4, v4: 2 }, { tos: 0, ttl: 64, flowlabel: 0 }, {
    sport: 8080, dport: 40000, seq: 1000001, ack: 1001, flags: TCPHDR.ACK, win: 500, urg: 0, options: [], payload_len: 0,
  }))!;
  const exp = tcpSpec('> . 1:1(0) ack 1002');
  t.is(verifyTcp(scriptView(exp), actualView(data, exp, s), data, cfg), 'live packet field tcp_ack_seq: expected: 1002 (0x3ea) vs actual: 1001 (0x3e9)');
  const exp2 = tcpSpec('> . 1:1(0) ack 1001 win 400');
  t.is(verifyTcp(scriptView(exp2), actualView(data, exp2, s), data, cfg), 'live packet field tcp_window: expected: 400 (0x190) vs actual: 500 (0x1f4)');
  const exp3 = tcpSpec('> . 1:1(0) ack 1001 <nop,nop,sack 1:2>');
  t.is(verifyTcp(scriptView(exp3), actualView(data, exp3, s), data, cfg), 'live packet field ipv4_total_length: expected: 52 (0x34) vs actual: 40 (0x28)');
  const exp4 = tcpSpec('> F. 1:1(0) ack 1001');
  t.is(verifyTcp(scriptView(exp4), actualView(data, exp4, s), data, cfg), 'live packet field tcp_fin: expected: 1 (0x1) vs actual: 0 (0x0)');
});

test('sysctl lines set the netns sysctls vxo has and refuse everything else', (t) => {
  const net = new Net(new BootState({ clock: new VirtualClock(), seed: 1 }));
  t.is(runCommand(net, 'sysctl -q net.ipv4.tcp_syncookies=2'), undefined);
  t.is(net.ipv4.sysctl_tcp_syncookies, 2);
  t.is(runCommand(net, 'sysctl -w net.ipv4.tcp_rmem="4096 540000 15728640" net.ipv4.tcp_timestamps=0'), undefined);
  t.deepEqual(net.ipv4.sysctl_tcp_rmem, [4096, 540000, 15728640]);
  t.is(net.ipv4.sysctl_tcp_timestamps, 0);
  t.is(runCommand(net, 'sysctl -q net.core.somaxconn=128'), undefined);
  t.is(net.core.sysctl_somaxconn, 128);
  t.regex(runCommand(net, './defaults.sh')!, /is not run: vxo runs no shell/);
  t.regex(runCommand(net, 'sysctl -q net.ipv4.tcp_syncookies=2; rm -rf /')!, /is not run/);
  t.regex(runCommand(net, 'sysctl -q net.ipv4.tcp_fastopen=3')!, /vxo has no such sysctl/);
  t.regex(runCommand(net, 'sysctl -q net.ipv4.tcp_syncookies=many')!, /is not a number/);
});

test('options: defaults are packetdrill\'s, script and command line set them, unknown ones are refused', (t) => {
  const c = makeConfig('x.pkt', []);
  t.is(c.tolerance_usecs, 4000);
  t.is(c.bind_port, 8080);
  t.deepEqual(c.local, { family: 4, v4: inet_pton4('192.168.0.1') });
  t.deepEqual(c.remote, { family: 4, v4: inet_pton4('192.0.2.1') });
  const s = parseScript('--tolerance_usecs=10000\n--ip_version=ipv6\n0 close(3) = 0\n');
  const c6 = makeConfig('x.pkt', s.options, [{ name: 'tolerance_usecs', value: '2000' }]);
  t.is(c6.tolerance_usecs, 2000);
  t.is(c6.ip_version, 'ipv6');
  t.is(c6.local.family, 6);
  t.throws(() => makeConfig('x.pkt', parseScript('--wire_server\n0 close(3) = 0\n').options), { message: /x\.pkt:1:1: error: --wire_server: unknown or unsupported option/ });
});
