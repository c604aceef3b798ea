// vxo's kernel BTF: the encoder's blob parses back to the same records, the uapi structs have the
// uapi's offsets, every layout is naturally aligned, and the lookups the loader, the verifier and
// the run time will use (typeId, struct, fieldAt, kfunc) answer as documented.
import test from 'ava';
import { parseBtf } from '../../bpf-vm/btf/btf.ts';
import { BtfWriter, BTF_FUNC, type BtfTypeInput } from '../../bpf-vm/btf/btf-encode.ts';
import { buildKernelBtf, kernelBtf, KFUNC_DECL_TAG, KFUNC_LINKAGE } from '../../bpf-vm/btf/kernel-btf.ts';
import { BTF_SOCK_TYPE, HELPER_RET_BTF_STRUCT, KERNEL_KFUNCS, KF } from '../../bpf-vm/btf/kernel-types.ts';
import type { BtfType } from '../../bpf-vm/btf/types.ts';
import { BPF_SK_LOOKUP, BPF_SK_LOOKUP_SIZE, BPF_SOCK, BPF_SOCK_SIZE, BPF_TCP_SOCK, BPF_TCP_SOCK_SIZE, SK_BUFF, SK_BUFF_SIZE } from '../../bpf-vm/prog/bpf-sock.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { RequestSock } from '../../net/core/request-sock.ts';
import { AF_INET, IPPROTO_TCP, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { TcpSock } from '../../net/ipv4/tcp-sock.ts';
import { stack } from '../net/helpers.ts';

const k = kernelBtf();

function strip(t: BtfType): BtfTypeInput {
  const { id: _id, at: _at, ...rest } = t;
  return rest as BtfTypeInput;
}

test('the blob parses back to the records it was written from (re-encoding gives the same bytes)', (t) => {
  const w = new BtfWriter();
  for (const ty of k.btf.types) if (ty) w.add(strip(ty));
  t.deepEqual(w.encode(), k.blob);
  t.deepEqual(buildKernelBtf().blob, k.blob, 'deterministic');
  const again = parseBtf(k.blob);
  t.is(again.types.length, k.btf.types.length);
  t.deepEqual(again.type(k.typeId('sock_common', 'struct')!), k.btf.type(k.typeId('sock_common', 'struct')!));
});

test('the writer round-trips every kind the reader knows', (t) => {
  const w = new BtfWriter();
  const int = w.add({ kind: 'int', name: 'int', size: 4, encoding: 1, bitOffset: 0, bits: 32 });
  const self = w.reserve();
  w.set(self, { kind: 'struct', name: 's', size: 16, members: [{ name: 'a', type: int, bitOffset: 0, bitfieldSize: 3 }, { name: 'next', type: self + 1, bitOffset: 64, bitfieldSize: 0 }] });
  w.add({ kind: 'ptr', name: '', type: self });
  w.add({ kind: 'enum', name: 'e', size: 4, signed: true, values: [{ name: 'NEG', value: -1n }, { name: 'POS', value: 7n }] });
  w.add({ kind: 'enum64', name: 'e64', size: 8, signed: false, values: [{ name: 'BIG', value: 0x1_0000_0002n }] });
  w.add({ kind: 'fwd', name: 'u', union: true });
  const proto = w.add({ kind: 'func_proto', name: '', returnType: int, params: [{ name: 'x', type: int }] });
  const fn = w.add({ kind: 'func', name: 'f', type: proto, linkage: BTF_FUNC.GLOBAL });
  w.add({ kind: 'decl_tag', name: 'tag', type: fn, componentIdx: -1 });
  const v = w.add({ kind: 'var', name: 'v', type: int, linkage: 1 });
  w.add({ kind: 'datasec', name: '.data', size: 4, vars: [{ type: v, offset: 0, size: 4 }] });
  w.add({ kind: 'array', name: '', type: int, indexType: int, nelems: 3 });
  w.add({ kind: 'float', name: 'double', size: 8 });
  w.add({ kind: 'type_tag', name: 'user', type: int });
  const btf = parseBtf(w.encode());
  const w2 = new BtfWriter();
  for (const ty of btf.types) if (ty) w2.add(strip(ty));
  t.deepEqual(w2.encode(), w.encode());
  t.like(btf.type(self), { kind: 'struct', members: [{ name: 'a', bitfieldSize: 3 }, { name: 'next', bitOffset: 64 }] });
  t.like(btf.type(4), { kind: 'enum', signed: true, values: [{ name: 'NEG', value: -1n }, { name: 'POS', value: 7n }] });
  t.like(btf.type(5), { kind: 'enum64', values: [{ name: 'BIG', value: 0x1_0000_0002n }] });
  t.throws(() => w.set(1, { kind: 'fwd', name: 'x', union: false }), { instanceOf: RangeError });
  const half = new BtfWriter();
  half.reserve();
  t.throws(() => half.encode(), { message: /reserved but never set: 1/ });
});

const offsets = (name: string): Record<string, number> => {
  const s = k.struct(name)!;
  const out: Record<string, number> = {};
  for (const f of s.fields) out[f.path.split('.').pop()!] ??= f.offset;
  return out;
};

test('uapi structs have the uapi offsets bpf-vm already uses (bpf-sock.ts)', (t) => {
  t.is(k.struct('__sk_buff')!.size, SK_BUFF_SIZE);
  t.like(offsets('__sk_buff'), SK_BUFF);
  t.is(k.struct('bpf_sock')!.size, BPF_SOCK_SIZE);
  t.like(offsets('bpf_sock'), BPF_SOCK);
  t.is(k.struct('bpf_tcp_sock')!.size, BPF_TCP_SOCK_SIZE);
  t.like(offsets('bpf_tcp_sock'), BPF_TCP_SOCK);
  t.is(k.struct('bpf_sk_lookup')!.size, BPF_SK_LOOKUP_SIZE);
  t.like(offsets('bpf_sk_lookup'), BPF_SK_LOOKUP);
  t.is(k.struct('bpf_sock_tuple')!.size, 36);
  t.is(k.struct('xdp_md')!.size, 24);
});

test('struct bpf_tcp_req_attrs is sockets.md section 5\'s 20 bytes', (t) => {
  const s = k.struct('bpf_tcp_req_attrs')!;
  t.is(s.size, 20);
  t.deepEqual(s.fields.map((f) => [f.name, f.offset, f.size]), [
    ['rcv_tsval', 0, 4], ['rcv_tsecr', 4, 4], ['mss', 8, 2], ['rcv_wscale', 10, 1], ['snd_wscale', 11, 1],
    ['ecn_ok', 12, 1], ['wscale_ok', 13, 1], ['sack_ok', 14, 1], ['tstamp_ok', 15, 1], ['usec_ts_ok', 16, 1], ['reserved', 17, 3],
  ]);
});

test('every struct is naturally aligned: scalars and pointers at multiples of their size, sizes a multiple of the alignment', (t) => {
  for (const ty of k.btf.types) {
    if (ty?.kind !== 'struct' && ty?.kind !== 'union') continue;
    const s = k.struct(ty.id)!;
    let align = 1;
    for (const f of s.fields) {
      const a = f.kind === 'array' ? elemSize(f.typeId) : f.size;
      align = Math.max(align, a);
      if (f.bits === undefined) t.is(f.offset % a, 0, `${ty.name || '(anon)'}.${f.path} at ${f.offset}`);
      else t.true(Math.floor(f.bitOffset! / (f.size * 8)) === Math.floor((f.bitOffset! + f.bits - 1) / (f.size * 8)), `${f.path} straddles its unit`);
    }
    t.is(s.size % align, 0, `${ty.name} size ${s.size}`);
  }
});

function elemSize(id: number): number {
  let ty = k.btf.type(k.btf.skipQualifiers(id));
  while (ty?.kind === 'array') ty = k.btf.type(k.btf.skipQualifiers(ty.type));
  return ty ? k.btf.sizeOf(ty.id) : 1;
}

test('kernel names and types: the socket chain embeds its parents first; fields have the kernel\'s types', (t) => {
  const first = (s: string): string => {
    const ty = k.btf.type(k.typeId(s, 'struct')!);
    return ty?.kind === 'struct' ? `${ty.members[0]!.name}:${k.btf.nameOf(ty.members[0]!.type)}` : '';
  };
  t.is(first('sock'), '__sk_common:struct sock_common');
  t.is(first('inet_sock'), 'sk:struct sock');
  t.is(first('inet_connection_sock'), 'icsk_inet:struct inet_sock');
  t.is(first('tcp_sock'), 'inet_conn:struct inet_connection_sock');
  t.is(first('request_sock'), '__req_common:struct sock_common');
  t.is(first('inet_request_sock'), 'req:struct request_sock');
  t.is(first('tcp_request_sock'), 'req:struct inet_request_sock');
  const type = (s: string, path: string): string => k.btf.nameOf(k.struct(s)!.fields.find((f) => f.path === path)!.typeId);
  t.is(type('sock_common', 'skc_daddr'), '__be32');
  t.is(type('sock_common', 'skc_dport'), '__be16');
  t.is(type('sock_common', 'skc_num'), '__u16');
  t.is(type('sock_common', 'skc_state'), 'volatile unsigned char');
  t.is(type('sock_common', 'skc_net.net'), 'struct net *');
  t.is(type('sock_common', 'skc_v6_daddr.in6_u.u6_addr32'), '__be32[4]');
  t.like(k.struct('sock_common')!.fields.find((f) => f.path === 'skc_v6_daddr.in6_u.u6_addr32'), { kind: 'array', bigEndian: true, signed: false });
  t.like(k.struct('tcp_sock')!.fields.find((f) => f.path === 'inet_conn.icsk_inet.uc_ttl'), { signed: true, bigEndian: false });
  t.is(type('tcp_sock', 'snd_cwnd'), 'u32');
  t.is(type('tcp_sock', 'bytes_acked'), 'u64');
  t.is(type('sock', 'sk_protocol'), 'u16');
  t.is(type('sk_buff', 'protocol'), '__be16');
  t.is(k.btf.type(k.typeId('net')!)?.kind, 'fwd', 'structs vxo does not describe are forward declarations');
});

test('fieldAt: the leaf an access falls in, through the embedded parents, with vxo\'s property', (t) => {
  const tcp = k.struct('tcp_sock')!;
  const num = tcp.fields.find((f) => f.path === 'inet_conn.icsk_inet.sk.__sk_common.skc_num')!;
  t.like(k.fieldAt(tcp.id, num.offset, 2), { name: 'skc_num', model: 'skc_num', bigEndian: false });
  t.like(k.fieldAt(tcp.id, num.offset - 2, 2), { name: 'skc_dport', model: 'skc_dport', bigEndian: true });
  t.like(k.fieldAt(tcp.id, num.offset, 1), { name: 'skc_num' }, 'a narrower load inside a field');
  t.like(k.fieldAt(tcp.id, num.offset - 1, 2), { name: 'skc_portpair' }, 'inside the union\'s wider member');
  t.is(k.fieldAt(tcp.id, num.offset + 3, 2), undefined, 'straddling skc_family and skc_state');
  t.is(k.fieldAt(tcp.id, tcp.size - 2, 4), undefined, 'beyond the struct');
  const cwnd = tcp.fields.find((f) => f.name === 'snd_cwnd')!;
  t.like(k.fieldAt(tcp.id, cwnd.offset, 4), { path: 'snd_cwnd', model: 'snd_cwnd', size: 4, kind: 'int' });
  const sw = tcp.fields.find((f) => f.path === 'rx_opt.snd_wscale')!;
  t.like(k.fieldAt(tcp.id, sw.offset - (sw.offset % 2), 2), { path: 'rx_opt.saw_tstamp', model: 'rx_opt.saw_tstamp' }, 'a u16 load of the bitfield unit: the first bitfield in it');
  t.is(sw.bits, 4);
  t.like(k.fieldAt(tcp.id, sw.offset, 1), { path: 'rx_opt.snd_wscale' }, 'a u8 load of the byte holding it');
  t.is(k.fieldAt(tcp.id, sw.offset, 2), undefined, 'a u16 load across two units');
  const sk = k.struct('sock')!;
  const cookie = sk.fields.find((f) => f.name === 'counter' && f.path.startsWith('__sk_common.skc_cookie'))!;
  t.like(k.fieldAt(sk.id, cookie.offset, 8), { model: 'skc_cookie.counter', signed: true });
  const req = k.struct('request_sock')!;
  const listener = req.fields.find((f) => f.name === 'skc_listener')!;
  t.like(listener, { kind: 'ptr', pointee: k.typeId('sock', 'struct'), model: 'rsk_listener' });
  t.is(k.fieldAt(req.id, listener.offset, 8)?.name, 'skc_flags', 'union members overlap: the first declared is returned');
  t.is(k.struct('tcp_request_sock')!.vxo, 'RequestSock');
});

test('the fields the kfunc and the socket helpers touch exist on vxo\'s objects under their model names', (t) => {
  const s = stack();
  const listener = new TcpSock(s.net, AF_INET, SOCK_STREAM, IPPROTO_TCP, 0);
  const tp = listener as unknown as Record<string, unknown>;
  const root = (structName: string, path: string): string => k.struct(structName)!.fields.find((f) => f.path === path || f.path.endsWith(`.${path}`))!.model.split('.')[0]!;
  for (const p of ['skc_daddr', 'skc_rcv_saddr', 'skc_dport', 'skc_num', 'skc_family', 'skc_state', 'skc_bound_dev_if', 'skc_v6_daddr.in6_u.u6_addr32', 'skc_cookie.counter', 'skc_reuseport',
    'sk_rcvbuf', 'sk_sndbuf', 'sk_type', 'sk_protocol', 'sk_mark', 'sk_priority', 'sk_err', 'sk_shutdown', 'sk_ack_backlog', 'sk_max_ack_backlog',
    'inet_saddr', 'inet_sport', 'uc_ttl', 'tos', 'icsk_retransmits', 'icsk_rto',
    'rcv_nxt', 'snd_nxt', 'snd_una', 'srtt_us', 'snd_cwnd', 'snd_ssthresh', 'mss_cache', 'rcv_wnd', 'snd_wnd', 'packets_out', 'retrans_out', 'total_retrans', 'bytes_received', 'bytes_acked', 'segs_in', 'segs_out', 'rx_opt.ts_recent']) {
    t.true(root('tcp_sock', p) in tp, `tcp_sock ${p} -> TcpSock.${root('tcp_sock', p)}`);
  }
  const req = new RequestSock(listener) as unknown as Record<string, unknown>;
  for (const p of ['mss', 'ts_recent', 'skc_listener', 'snd_wscale', 'rcv_wscale', 'tstamp_ok', 'sack_ok', 'wscale_ok', 'ecn_ok', 'ts_off', 'rcv_isn', 'snt_isn', 'skc_num']) {
    t.true(root('tcp_request_sock', p) in req, `tcp_request_sock ${p} -> RequestSock.${root('tcp_request_sock', p)}`);
  }
});

test('kfuncs: FUNC + FUNC_PROTO + the bpf_kfunc decl tag, by name and by id, with the verifier\'s facts', (t) => {
  const kf = k.kfunc('bpf_sk_assign_tcp_reqsk')!;
  t.truthy(kf);
  t.is(k.kfuncById(kf.funcId), kf);
  const f = k.btf.type(kf.funcId);
  t.like(f, { kind: 'func', name: 'bpf_sk_assign_tcp_reqsk', linkage: KFUNC_LINKAGE });
  const proto = k.btf.type(kf.protoId);
  if (proto?.kind !== 'func_proto') { t.fail('no FUNC_PROTO'); return; }
  t.is(k.btf.nameOf(proto.returnType), 'int');
  t.deepEqual(proto.params.map((p) => `${k.btf.nameOf(p.type)} ${p.name}`), [
    'struct __sk_buff * s', 'struct sock * sk', 'struct bpf_tcp_req_attrs * attrs', 'int attrs__sz',
  ]);
  t.is(kf.spec.flags, KF.KF_TRUSTED_ARGS);
  t.deepEqual(kf.spec.progTypes, [BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS]);
  t.true(k.btf.funcReturnsScalar(kf.funcId));
  const tags = k.btf.types.filter((ty) => ty?.kind === 'decl_tag' && ty.name === KFUNC_DECL_TAG);
  t.is(tags.length, KERNEL_KFUNCS.length);
  for (const spec of KERNEL_KFUNCS) t.truthy(k.kfunc(spec.name), spec.name);
  t.is(k.kfunc('bpf_no_such_kfunc'), undefined);
  t.is(k.typeId('tcp_sock'), k.typeId('tcp_sock', 'struct'));
  t.is(k.typeId('tcp_sock', 'union'), undefined);
});

test('every btf_sock_ids struct and every bpf_skc_to_* target is a struct of vxo\'s BTF; IPv6 fields read the socket\'s own', (t) => {
  for (const name of [...Object.values(BTF_SOCK_TYPE), ...Object.values(HELPER_RET_BTF_STRUCT)]) t.truthy(k.struct(name), name);
  const tcp6 = k.struct('tcp6_sock')!;
  t.is(tcp6.vxo, 'TcpSock');
  t.like(tcp6.fields.find((f) => f.path === 'inet6.saddr.in6_u.u6_addr32'), { model: 'v6_saddr.in6_u.u6_addr32' });
  t.like(tcp6.fields.find((f) => f.path === 'inet6.rxopt.all'), { model: 'rxopt' });
  t.like(tcp6.fields.find((f) => f.path === 'tcp.snd_cwnd'), { model: 'snd_cwnd' });
  t.like(k.struct('tcp_timewait_sock')!.fields.find((f) => f.name === 'tw_rcv_nxt'), { model: 'tw_rcv_nxt' });
  t.like(k.struct('tcp_timewait_sock')!.fields.find((f) => f.name === 'skc_state'), { model: 'skc_state' });
});

test('packet headers as the uapi lays them out (programs on vmlinux.h alone parse packets with them)', (t) => {
  t.is(k.struct('ethhdr')!.size, 14);
  t.like(offsets('ethhdr'), { h_dest: 0, h_source: 6, h_proto: 12 });
  t.is(k.struct('iphdr')!.size, 20);
  t.like(offsets('iphdr'), { tos: 1, tot_len: 2, id: 4, frag_off: 6, ttl: 8, protocol: 9, check: 10, saddr: 12, daddr: 16 });
  t.like(k.struct('iphdr')!.fields.find((f) => f.name === 'version'), { bitOffset: 4, bits: 4 });
  t.is(k.struct('ipv6hdr')!.size, 40);
  t.like(offsets('ipv6hdr'), { flow_lbl: 1, payload_len: 4, nexthdr: 6, hop_limit: 7 });
  t.is(k.struct('ipv6hdr')!.fields.find((f) => f.path === 'daddr.in6_u.u6_addr32')!.offset, 24);
  t.is(k.struct('tcphdr')!.size, 20);
  t.like(offsets('tcphdr'), { source: 0, dest: 2, seq: 4, ack_seq: 8, window: 14, check: 16, urg_ptr: 18 });
  t.like(k.struct('tcphdr')!.fields.find((f) => f.name === 'doff'), { bitOffset: 100, bits: 4 });
  t.like(k.struct('tcphdr')!.fields.find((f) => f.name === 'syn'), { bitOffset: 105, bits: 1 });
  t.is(k.struct('udphdr')!.size, 8);
  const netns = k.btf.types.find((ty) => ty?.kind === 'enum' && ty.values.some((v) => v.name === 'BPF_F_CURRENT_NETNS'));
  t.like(netns, { signed: true, values: [{ name: 'BPF_F_CURRENT_NETNS', value: -1n }] });
});
