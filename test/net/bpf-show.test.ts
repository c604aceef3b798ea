// `bpftool net` for a netns: the XDP programs a machine registers, the tc filters of every device,
// the netns's SK_LOOKUP links in run order, and (asked for) the socket filters, as data and as
// bpftool's text; `bpftool net show dev X`; the program ids and tags.
import test from 'ava';
import { sockProg, tcProg, threeHosts, udpSocket, ret, setMark } from './cls-bpf-progs.ts';
import { bpf_tc_attach, tc_filter_del } from '../../net/sched/cls-bpf.ts';
import { bpf_net_register_xdp, bpf_net_show, bpf_net_show_text, bpf_prog_get_id, bpf_prog_tag } from '../../net/core/bpf-show.ts';
import { sk_attach_bpf } from '../../net/core/sk-filter.ts';
import { bpf_netns_link_detach, netns_bpf_link_create, type NetnsBpfLink } from '../../net/core/sk-lookup.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { AF_INET } from '../../net/core/socket-constants.ts';

test('bpftool net: xdp, tc per device in ifindex order (ingress before egress), then sk_lookup links and socket filters', (t) => {
  const h = threeHosts();
  const xdp: Program = { ...tcProg(ret(2), 'xdp_fw'), section: 'xdp', type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP };
  bpf_net_register_xdp(h.a, () => [{ dev: h.deva1, mode: 'driver', prog: xdp }]);
  const eg = tcProg(setMark(1), 'eg');
  const ing = tcProg(ret(0), 'ing');
  t.true(typeof bpf_tc_attach(h.deva1, 'egress', eg, { prio: 1, handle: 1 }) !== 'number');
  t.true(typeof bpf_tc_attach(h.deva1, 'ingress', ing, { prio: 1, handle: 1, name: 'ing.o:[tc/ingress]' }) !== 'number');
  t.true(typeof bpf_tc_attach(h.deva, 'egress', eg, { prio: 7, handle: 2 }) !== 'number');
  const disp = { run: () => 1, program: { name: 'dispatcher', type: BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP } };
  const link = netns_bpf_link_create(h.a, disp) as NetnsBpfLink;
  t.is(typeof link, 'object');
  const s = udpSocket(h.a);
  t.is(s.bind({ family: AF_INET, addr: 0, port: 53 }), 0);
  const sf = sockProg(ret(0), 'drop_all');
  t.is(sk_attach_bpf(s.sk, sf), 0);

  const data = bpf_net_show(h.a, { sockets: [s.sk] });
  t.deepEqual(data.xdp, [{ devname: 'veth1', ifindex: 3, mode: 'driver', id: bpf_prog_get_id(xdp), name: 'xdp_fw' }]);
  t.deepEqual(data.tc.map((e) => `${e.devname}(${e.ifindex}) ${e.kind} ${e.name} prio ${e.prio} handle ${e.handle}`), [
    'veth0(2) clsact/egress eg prio 7 handle 2',
    'veth1(3) clsact/ingress ing.o:[tc/ingress] prio 1 handle 1',
    'veth1(3) clsact/egress eg prio 1 handle 1',
  ]);
  t.is(data.tc[0]!.tag, bpf_prog_tag(eg));
  t.deepEqual(data.sk_lookup, [{ index: 0, link_id: link.id, id: bpf_prog_get_id(disp.program), name: 'dispatcher' }]);
  t.deepEqual(data.sk_filter, [{ family: AF_INET, protocol: 17, port: 53, id: bpf_prog_get_id(sf), name: 'drop_all' }]);

  t.is(
    bpf_net_show_text(h.a, { sockets: [s.sk] }),
    [
      'xdp:',
      `veth1(3) driver id ${bpf_prog_get_id(xdp)}`,
      '',
      'tc:',
      `veth0(2) clsact/egress eg id ${bpf_prog_get_id(eg)}`,
      `veth1(3) clsact/ingress ing.o:[tc/ingress] id ${bpf_prog_get_id(ing)}`,
      `veth1(3) clsact/egress eg id ${bpf_prog_get_id(eg)}`,
      '',
      'flow_dissector:',
      '',
      'netfilter:',
      '',
      'sk_lookup:',
      `netns link_id ${link.id} dispatcher id ${bpf_prog_get_id(disp.program)}`,
      '',
      'sk_filter:',
      `udp port 53 drop_all id ${bpf_prog_get_id(sf)}`,
      '',
      '',
    ].join('\n'),
  );
  // One device: its xdp and tc lines only.
  t.is(bpf_net_show_text(h.a, { dev: 'veth0' }), `xdp:\n\ntc:\nveth0(2) clsact/egress eg id ${bpf_prog_get_id(eg)}\n\nflow_dissector:\n\nnetfilter:\n\n`);
  // Detached things leave the listing; ids stay with their programs.
  t.is(tc_filter_del(h.deva1, 'ingress'), 0);
  t.is(bpf_netns_link_detach(link), 0);
  const after = bpf_net_show(h.a);
  t.deepEqual(after.tc.map((e) => e.name), ['eg', 'eg']);
  t.deepEqual(after.sk_lookup, []);
  t.is(bpf_prog_get_id(eg), data.tc[0]!.id);
  // Another netns lists only its own.
  t.deepEqual(bpf_net_show(h.b).tc, []);
});

test('program tags: 16 hex digits of SHA-256 over the instructions, map fds not part of them', (t) => {
  const a = tcProg('lddw %r1, 0x1234\nmov %r0, 0\nexit');
  const b = tcProg('lddw %r1, 0x1234\nmov %r0, 0\nexit');
  const c = tcProg('lddw %r1, 0x1235\nmov %r0, 0\nexit');
  t.regex(bpf_prog_tag(a), /^[0-9a-f]{16}$/);
  t.is(bpf_prog_tag(a), bpf_prog_tag(b), 'the same code, the same tag');
  t.not(bpf_prog_tag(a), bpf_prog_tag(c));
  t.not(bpf_prog_get_id(a), bpf_prog_get_id(b), 'two loads, two ids');
  // A map reference (src 1: BPF_PSEUDO_MAP_FD) is zeroed before hashing: fd 3 and fd 4 tag alike.
  const m3 = { ...a, insns: a.insns.map((i, k) => (k === 0 ? { ...i, src: 1, imm: 3 } : i)) };
  const m4 = { ...a, insns: a.insns.map((i, k) => (k === 0 ? { ...i, src: 1, imm: 4 } : i)) };
  t.is(bpf_prog_tag(m3), bpf_prog_tag(m4));
});
