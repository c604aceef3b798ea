// What BPF is attached where in a netns, as `bpftool net` (tools/bpf/bpftool/net.c) lists it: the
// XDP programs of the devices, the tc filters of each device's clsact qdisc, then the netns
// attachments. Plain data (bpf_net_show) and bpftool's text (bpf_net_show_text), plus
// `tc filter show dev X ingress|egress` (tc_filter_show_text) for one device.
//
// The stack does not hold XDP programs (the machines' drivers do: virtio_net in the guest, the
// tap and the NIC on the host), so a machine registers what it knows with bpf_net_register_xdp.
// bpftool has no section for SK_LOOKUP links or socket filters (it sends users to `bpftool link`
// and iproute2); they follow here as `sk_lookup:` and `sk_filter:` in the same shape.
//
// Program ids and tags: the kernel numbers programs at load (a global idr) and tags them with the
// first 8 bytes of a digest of their instructions (bpf_prog_calc_tag, map fds zeroed): SHA-256
// since Linux 6.18 (SHA-1 before), which test/kernel/cls-bpf-tag.test.ts checks against the
// running kernel. bpf-vm programs carry neither, so ids are given here on first sight, per
// process, from 1.
import { createHash } from 'node:crypto';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { encodeInsns } from '../../bpf-vm/isa/insn.ts';
import type { Net } from './net-namespace.ts';
import type { NetDevice } from './netdevice.ts';
import type { Sock } from './sock.ts';
import { ETH_P_ALL, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6 } from './skbuff.ts';
import { sk_filter } from './sk-filter.ts';
import { dev_clsact, tc_filter_list, type TcDirection, type TcFilterInfo } from '../sched/cls-bpf.ts';
import type { SkLookupProg } from './sk-lookup.ts';

const prog_ids = new WeakMap<object, number>();
let next_prog_id = 1;

/** The program's id (bpf_prog_info.id): given on first use, stable afterwards. */
export function bpf_prog_get_id(prog: object): number {
  let id = prog_ids.get(prog);
  if (id === undefined) {
    id = next_prog_id++;
    prog_ids.set(prog, id);
  }
  return id;
}

/** BPF_LD | BPF_IMM | BPF_DW, and the src_reg values whose imm is a map fd (zeroed for the tag). */
const LD_IMM64 = 0x18;
const BPF_PSEUDO_MAP_FD = 1;
const BPF_PSEUDO_MAP_VALUE = 2;
const tags = new WeakMap<Program, string>();

/** bpf_prog_calc_tag: 16 hex digits, the first 8 bytes of SHA-256 over the instructions with map fds zeroed. */
export function bpf_prog_tag(prog: Program): string {
  let tag = tags.get(prog);
  if (tag !== undefined) return tag;
  const insns = prog.insns.map((i) => ({ ...i }));
  for (let i = 0; i < insns.length - 1; i++) {
    const ins = insns[i]!;
    if (ins.code === LD_IMM64) {
      if (ins.src === BPF_PSEUDO_MAP_FD || ins.src === BPF_PSEUDO_MAP_VALUE) {
        ins.imm = 0;
        insns[i + 1]!.imm = 0;
      }
      i++;
    }
  }
  tag = createHash('sha256').update(encodeInsns(insns)).digest('hex').slice(0, 16);
  tags.set(prog, tag);
  return tag;
}

/** One XDP attachment a machine knows about (`bpftool net`'s xdp section). */
export interface XdpAttachment {
  dev: NetDevice;
  /** IFLA_XDP_ATTACHED's mode: native (driver), generic (skb) or offloaded to the NIC. */
  mode: 'driver' | 'generic' | 'offload';
  prog: Program;
}

const xdp_providers = new WeakMap<Net, (() => readonly XdpAttachment[])[]>();

/** A machine tells the listing where its XDP programs are (called at each listing). */
export function bpf_net_register_xdp(net: Net, provider: () => readonly XdpAttachment[]): void {
  const l = xdp_providers.get(net);
  if (l === undefined) xdp_providers.set(net, [provider]);
  else l.push(provider);
}

export interface BpfNetXdpEntry {
  devname: string;
  ifindex: number;
  mode: XdpAttachment['mode'];
  id: number;
  name: string;
}

export interface BpfNetTcEntry {
  devname: string;
  ifindex: number;
  /** "clsact/ingress" or "clsact/egress". */
  kind: string;
  /** TCA_BPF_NAME (tc's "obj.o:[sec]") or the program's name. */
  name: string;
  id: number;
  tag: string;
  prio: number;
  handle: number;
  direct_action: boolean;
}

export interface BpfNetSkLookupEntry {
  /** Position in the netns's run array (the order the programs run). */
  index: number;
  /** The netns link's id (0 for an entry that is not a link). */
  link_id: number;
  /** The program's id. */
  id: number;
  name: string;
}

export interface BpfNetSkFilterEntry {
  /** sock_gen_cookie would allocate: the listing names a socket by its local port and family. */
  family: number;
  protocol: number;
  port: number;
  id: number;
  name: string;
}

export interface BpfNetShow {
  xdp: BpfNetXdpEntry[];
  tc: BpfNetTcEntry[];
  flow_dissector: { id: number }[];
  netfilter: never[];
  sk_lookup: BpfNetSkLookupEntry[];
  sk_filter: BpfNetSkFilterEntry[];
}

/** What an SK_LOOKUP run-array entry may carry to be named (sk-lookup.ts's NetnsBpfLink has both). */
interface NamedSkLookupProg {
  readonly id?: number;
  readonly program?: { readonly name: string };
}

function tc_entry(f: TcFilterInfo): BpfNetTcEntry {
  return {
    devname: f.dev, ifindex: f.ifindex, kind: `clsact/${f.dir}`, name: f.name, id: bpf_prog_get_id(f.prog), tag: bpf_prog_tag(f.prog),
    prio: f.prio, handle: f.handle, direct_action: f.direct_action,
  };
}

export interface BpfNetShowOptions {
  /** `bpftool net show dev NAME`: one device only. */
  dev?: string;
  /** Sockets whose filters to list (the stack keeps no list of filtered sockets). */
  sockets?: readonly Sock[];
}

/** `bpftool net show`, as data: devices in ifindex order, each ingress before egress. */
export function bpf_net_show(net: Net, o: BpfNetShowOptions = {}): BpfNetShow {
  const devs = [...net.dev_base.by_index.values()].filter((d) => o.dev === undefined || d.name === o.dev).sort((a, b) => a.ifindex - b.ifindex);
  const out: BpfNetShow = { xdp: [], tc: [], flow_dissector: [], netfilter: [], sk_lookup: [], sk_filter: [] };
  const xdp: XdpAttachment[] = [];
  for (const p of xdp_providers.get(net) ?? []) xdp.push(...p());
  xdp.sort((a, b) => a.dev.ifindex - b.dev.ifindex);
  for (const x of xdp) {
    if (o.dev !== undefined && x.dev.name !== o.dev) continue;
    out.xdp.push({ devname: x.dev.name, ifindex: x.dev.ifindex, mode: x.mode, id: bpf_prog_get_id(x.prog), name: x.prog.name });
  }
  for (const d of devs) {
    for (const dir of ['ingress', 'egress'] as const) for (const f of tc_filter_list(d, dir)) out.tc.push(tc_entry(f));
  }
  if (o.dev === undefined) {
    net.sk_lookup.progs.forEach((p: SkLookupProg & NamedSkLookupProg, index) => {
      const prog = p.program;
      out.sk_lookup.push({ index, link_id: p.id ?? 0, id: bpf_prog_get_id(prog ?? p), name: prog?.name ?? '' });
    });
  }
  for (const sk of o.sockets ?? []) {
    const f = sk_filter(sk);
    if (f === undefined) continue;
    out.sk_filter.push({ family: sk.skc_family, protocol: sk.sk_protocol, port: sk.skc_num, id: bpf_prog_get_id(f.prog), name: f.prog.name });
  }
  return out;
}

/** `bpftool net show` as text: each section's name, its lines, a blank line. */
export function bpf_net_show_text(net: Net, o: BpfNetShowOptions = {}): string {
  const s = bpf_net_show(net, o);
  const lines: string[] = [];
  lines.push('xdp:');
  for (const x of s.xdp) lines.push(`${x.devname}(${x.ifindex}) ${x.mode} id ${x.id}`);
  lines.push('', 'tc:');
  for (const t of s.tc) lines.push(`${t.devname}(${t.ifindex}) ${t.kind} ${t.name} id ${t.id}`);
  lines.push('', 'flow_dissector:', '', 'netfilter:', '');
  if (s.sk_lookup.length !== 0) {
    lines.push('sk_lookup:');
    for (const l of s.sk_lookup) lines.push(`netns${l.link_id !== 0 ? ` link_id ${l.link_id}` : ''}${l.name !== '' ? ` ${l.name}` : ''} id ${l.id}`);
    lines.push('');
  }
  if (s.sk_filter.length !== 0) {
    lines.push('sk_filter:');
    for (const f of s.sk_filter) lines.push(`${proto_name(f.protocol, f.family)} port ${f.port} ${f.name} id ${f.id}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function proto_name(protocol: number, family: number): string {
  const p = protocol === 6 ? 'tcp' : protocol === 17 ? 'udp' : `proto${protocol}`;
  return family === 10 ? `${p}6` : p;
}

/** tc's ll_proto_n2a names for the protocols a filter is usually given. */
function tc_proto_name(protocol: number): string {
  switch (protocol) {
    case ETH_P_ALL: return 'all';
    case ETH_P_IP: return 'ip';
    case ETH_P_IPV6: return 'ipv6';
    case ETH_P_ARP: return 'arp';
    default: return `0x${protocol.toString(16).padStart(4, '0')}`;
  }
}

/**
 * `tc filter show dev X ingress|egress`: per tcf_proto a header line, then one line per program,
 * as iproute2 prints cls_bpf (f_bpf.c): handle, name, direct-action, not_in_hw, then the
 * program's id, name, tag and "jited" (bpf_dump_prog_info).
 */
export function tc_filter_show_text(dev: NetDevice, dir: TcDirection): string {
  const lines: string[] = [];
  let last = -1;
  for (const f of tc_filter_list(dev, dir)) {
    const head = `filter protocol ${tc_proto_name(f.protocol)} pref ${f.prio} bpf chain 0 `;
    if (f.prio !== last) {
      lines.push(head);
      last = f.prio;
    }
    const jited = f.filter.runner.engineName === 'jit' ? 'jited ' : '';
    const classid = f.classid !== 0 ? `flowid ${(f.classid >>> 16).toString(16)}:${(f.classid & 0xffff).toString(16)} ` : '';
    lines.push(
      `${head}handle 0x${f.handle.toString(16)} ${classid}${f.name} ${f.direct_action ? 'direct-action ' : ''}not_in_hw ` +
        `id ${bpf_prog_get_id(f.prog)} name ${f.prog.name.slice(0, 15)} tag ${bpf_prog_tag(f.prog)} ${jited}`,
    );
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * `tc [-s] qdisc show dev X` for the clsact qdisc (vxo's root FIFO is not listed): its handle and
 * parent, and with `stats` the packets and bytes both directions classified and the SHOT drops.
 */
export function tc_qdisc_show_text(dev: NetDevice, stats = false): string {
  const q = dev_clsact(dev);
  if (q === undefined) return '';
  const head = 'qdisc clsact ffff: parent ffff:fff1 \n';
  if (!stats) return head;
  const st = q.stats;
  return `${head} Sent ${st.bytes} bytes ${st.packets} pkt (dropped ${st.drops}, overlimits 0 requeues 0) \n backlog 0b 0p requeues 0\n`;
}
