// The clsact qdisc (net/sched/sch_ingress.c) and the cls_bpf classifier (net/sched/cls_bpf.c) on
// any NetDevice: `tc qdisc add dev X clsact`, then `tc filter add dev X ingress|egress prio P
// handle H bpf da obj O sec S`. Each direction of the qdisc is a TcHook in dev.tc_ingress /
// dev.tc_egress that sch_handle_ingress / sch_handle_egress (core/dev.ts) run and act on.
//
// The chain holds one tcf_proto per (prio, protocol), ascending by prio; each holds its cls_bpf
// programs, the newest first (cls_bpf_change adds with list_add_rcu). tcf_classify walks the
// chain, skipping protos of another protocol, until a classifier returns a verdict >= 0. In
// direct-action mode the program's return value is the verdict, through cls_bpf_exec_opcode:
// OK, SHOT, STOLEN, TRAP, REDIRECT and UNSPEC as they are, anything else (PIPE, RECLASSIFY,
// QUEUED, REPEAT, unknown numbers) becomes UNSPEC, "try the next program". Without da the return
// value is a classid (0: no match, -1: the filter's own) and, with no actions attached, OK.
//
// A program runs on the SkBuff itself (SkbProgramRunner): what it writes to mark, priority,
// tc_index, tc_classid or the packet is there afterwards. At ingress skb->data is at the network
// header, so the link header is pushed around each run as cls_bpf does. A program fault (only an
// unverified program can have one) drops the packet like SHOT and is counted in `faults`.
import type { BpfSkb } from '../../bpf-vm/prog/sock-host.ts';
import { BpfError } from '../../bpf-vm/errors.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import type { EngineName } from '../../bpf-vm/engines.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import type { BpfNetHost } from '../../bpf-vm/prog/sock-host.ts';
import { SkbProgramRunner } from '../../bpf-vm/prog/skb-runner.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import type { VerifyResult } from '../../bpf-vm/verifier/api.ts';
import type { NetDevice, TcHook } from '../core/netdevice.ts';
import { ETH_P_ALL, type SkBuff } from '../core/skbuff.ts';
import { bpf_redirect_info } from '../core/dev.ts';
import { net_bpf_host } from '../core/filter.ts';
import {
  TC_ACT_OK, TC_ACT_RECLASSIFY, TC_ACT_REDIRECT, TC_ACT_SHOT, TC_ACT_STOLEN, TC_ACT_TRAP, TC_ACT_UNSPEC, TC_H_MAJ, TC_H_MIN,
} from './pkt-cls.ts';

export type TcDirection = 'ingress' | 'egress';

/** tcf_auto_prio's first priority (TC_H_MAKE(0xC0000000, 0) >> 16): `tc filter add` without prio. */
export const TC_AUTO_PRIO_FIRST = 0xc000;
/** cls_bpf handles are u32 allocated from 1 (idr_alloc_u32 up to INT_MAX). */
const CLS_BPF_HANDLE_MAX = 0x7fffffff;
/** CLS_BPF_NAME_LEN: TCA_BPF_NAME's bound, terminator included. */
export const CLS_BPF_NAME_LEN = 256;

/** The counters of one filter (vxo's: the kernel keeps none for a da program without actions). */
export class ClsBpfStats {
  /** Times the program ran. */
  runs = 0;
  /** Verdicts: SHOT, REDIRECT, and faults (a fault is also a drop). */
  shot = 0;
  redirect = 0;
  faults = 0;
}

/** struct cls_bpf_prog: one program in a tcf_proto. */
export class ClsBpfProg {
  readonly stats = new ClsBpfStats();
  constructor(
    readonly tp: TcfProto,
    readonly handle: number,
    readonly prog: Program,
    readonly runner: SkbProgramRunner,
    /** TCA_BPF_NAME: what tc sends, "obj.o:[section]". */
    readonly bpf_name: string,
    /** TCA_BPF_FLAG_ACT_DIRECT. */
    readonly direct_action: boolean,
    /** res.classid (tc's `classid` option; 0 by default). */
    readonly classid: number,
  ) {}
}

/** struct tcf_proto of kind "bpf": one prio and protocol in a chain. */
export class TcfProto {
  readonly kind = 'bpf';
  /** Newest first, as cls_bpf's plist. */
  progs: ClsBpfProg[] = [];
  constructor(
    readonly prio: number,
    /** Host order; ETH_P_ALL matches every packet. */
    readonly protocol: number,
  ) {}
}

/** The clsact qdisc's counters (`tc -s qdisc show dev X`), which both directions share as in the kernel. */
export class ClsactStats {
  bytes = 0;
  packets = 0;
  drops = 0;
}

/**
 * One direction of the clsact qdisc (its mini_Qdisc and chain 0): the TcHook sch_handle_* runs.
 * run() is tc_run: the classification, the qdisc's counters, a SHOT counted as a qdisc drop,
 * and tc_index from the result's classid on OK.
 */
export class ClsactMiniq implements TcHook {
  /** Ascending by prio. */
  chain: TcfProto[] = [];
  /** res.classid of the classification in progress. */
  private res_classid = 0;

  constructor(
    readonly dev: NetDevice,
    readonly ingress: boolean,
    readonly stats: ClsactStats,
  ) {}

  /** Any BpfSkb: net's SkBuff, or host/net's pool skb adapter (the host's NIC and tap). */
  run(skb: BpfSkb): number {
    const st = this.stats;
    st.packets++;
    st.bytes += skb.len;
    const ret = this.tcf_classify(skb);
    if (ret === TC_ACT_SHOT) st.drops++;
    else if (ret === TC_ACT_OK || ret === TC_ACT_RECLASSIFY) skb.tc_index = TC_H_MIN(this.res_classid);
    return ret;
  }

  /** tcf_classify: the first proto of the packet's protocol to answer >= 0 decides. */
  private tcf_classify(skb: BpfSkb): number {
    const chain = this.chain;
    const proto = skb.protocol;
    for (let i = 0; i < chain.length; i++) {
      const tp = chain[i]!;
      if (tp.protocol !== proto && tp.protocol !== ETH_P_ALL) continue;
      const err = this.cls_bpf_classify(skb, tp);
      if (err >= 0) return err;
    }
    return TC_ACT_UNSPEC;
  }

  /** cls_bpf_classify. */
  private cls_bpf_classify(skb: BpfSkb, tp: TcfProto): number {
    const progs = tp.progs;
    const ingress = this.ingress;
    for (let i = 0; i < progs.length; i++) {
      const p = progs[i]!;
      skb.tc_classid = p.classid;
      p.stats.runs++;
      let filter_res: number;
      const mac_len = ingress ? skb.mac_len : 0;
      // __skb_push / __skb_pull: the program sees the link header, as at egress.
      skb.data -= mac_len;
      skb.len += mac_len;
      try {
        filter_res = p.runner.run(skb, ingress) | 0;
      } catch (e) {
        if (!(e instanceof BpfError)) throw e;
        p.stats.faults++;
        p.stats.shot++;
        this.res_classid = p.classid;
        skb.data += mac_len;
        skb.len -= mac_len;
        return TC_ACT_SHOT;
      }
      skb.data += mac_len;
      skb.len -= mac_len;
      if (p.direct_action) {
        this.res_classid = (TC_H_MAJ(p.classid) | skb.tc_classid) >>> 0;
        const ret = cls_bpf_exec_opcode(filter_res);
        if (ret === TC_ACT_UNSPEC) continue;
        if (ret === TC_ACT_SHOT) p.stats.shot++;
        else if (ret === TC_ACT_REDIRECT) {
          p.stats.redirect++;
          const env = p.runner.env;
          bpf_redirect_info.tgt_index = env.redirect.ifindex;
          bpf_redirect_info.flags = env.redirectFlags;
        }
        return ret;
      }
      if (filter_res === 0) continue;
      this.res_classid = filter_res !== -1 ? filter_res >>> 0 : p.classid;
      // tcf_exts_exec with no actions attached.
      return TC_ACT_OK;
    }
    return TC_ACT_UNSPEC;
  }
}

/** cls_bpf_exec_opcode: the verdicts a direct-action program may give; the rest mean "next". */
export function cls_bpf_exec_opcode(code: number): number {
  switch (code) {
    case TC_ACT_OK:
    case TC_ACT_SHOT:
    case TC_ACT_STOLEN:
    case TC_ACT_TRAP:
    case TC_ACT_REDIRECT:
    case TC_ACT_UNSPEC:
      return code;
    default:
      return TC_ACT_UNSPEC;
  }
}

/** The clsact qdisc of a device: handle ffff:, parent ffff:fff1. */
export class ClsactQdisc {
  readonly stats = new ClsactStats();
  readonly ingress: ClsactMiniq;
  readonly egress: ClsactMiniq;
  constructor(readonly dev: NetDevice) {
    this.ingress = new ClsactMiniq(dev, true, this.stats);
    this.egress = new ClsactMiniq(dev, false, this.stats);
  }

  miniq(dir: TcDirection): ClsactMiniq {
    return dir === 'ingress' ? this.ingress : this.egress;
  }
}

const clsact_of = new WeakMap<NetDevice, ClsactQdisc>();

/** The device's clsact qdisc, if one was added. */
export function dev_clsact(dev: NetDevice): ClsactQdisc | undefined {
  return clsact_of.get(dev);
}

/**
 * `tc qdisc add dev X clsact`: 0, or -EEXIST when the device has one. The hooks join
 * dev.tc_ingress / dev.tc_egress when their first filter is added, so a qdisc without filters
 * costs the packet path nothing.
 */
export function qdisc_create_clsact(dev: NetDevice): number {
  if (clsact_of.has(dev)) return -ERRNO.EEXIST;
  clsact_of.set(dev, new ClsactQdisc(dev));
  return 0;
}

/** `tc qdisc del dev X clsact`: removes it with all its filters. 0, or -EINVAL when there is none (the kernel's "Cannot find specified qdisc"). */
export function qdisc_destroy_clsact(dev: NetDevice): number {
  const q = clsact_of.get(dev);
  if (q === undefined) return -ERRNO.EINVAL;
  unhook(dev.tc_ingress, q.ingress);
  unhook(dev.tc_egress, q.egress);
  q.ingress.chain = [];
  q.egress.chain = [];
  clsact_of.delete(dev);
  return 0;
}

function hooks_of(dev: NetDevice, dir: TcDirection): TcHook[] {
  return dir === 'ingress' ? dev.tc_ingress : dev.tc_egress;
}

function unhook(hooks: TcHook[], h: TcHook): void {
  const i = hooks.indexOf(h);
  if (i >= 0) hooks.splice(i, 1);
}

/** `tc filter add ... bpf` options (what tc's f_bpf and the tcmsg carry). */
export interface ClsBpfOptions {
  /** `prio`/`pref`, 1-65535; 0 or absent: tcf_auto_prio (49152, then one below the chain's last). */
  prio?: number;
  /** `handle`; 0 or absent: the lowest free from 1. */
  handle?: number;
  /** `protocol`, host order; ETH_P_ALL (`all`) by default. */
  protocol?: number;
  /** `da`: direct action (default true; libbpf's bpf_tc_attach always sets it). */
  direct_action?: boolean;
  /** `classid`. */
  classid?: number;
  /** TCA_BPF_NAME: tc sends "obj.o:[section]"; the program's name by default. */
  name?: string;
  /** `tc filter replace`: an existing handle at this prio gets the new program (NLM_F_REPLACE instead of NLM_F_EXCL). */
  replace?: boolean;
  /** Runner options: engine, the stack's BpfNetHost (default: the device's netns's, net_bpf_host), a verified result to reuse. */
  engine?: EngineName;
  netHost?: BpfNetHost;
  verify?: boolean | VerifyResult;
  seed?: number;
  cpu?: number;
}

/**
 * `tc filter add dev X ingress|egress [protocol P] [prio N] [handle H] bpf [da] obj O sec S`
 * (tc_new_tfilter + cls_bpf_change): the ClsBpfProg, or a negative errno: -EINVAL without a clsact
 * qdisc ("Parent Qdisc doesn't exists"), for a program not of type SCHED_CLS (cls_bpf takes no
 * other), a prio out of range, a different protocol at an existing prio, or a replace naming
 * another handle; -EEXIST for a handle already there ("Filter already exists") unless `replace`.
 * The runner is built here, so the program is verified now as BPF_PROG_LOAD would (a refusal
 * throws the verifier's error).
 */
export function tc_filter_add(dev: NetDevice, dir: TcDirection, prog: Program, o: ClsBpfOptions = {}): ClsBpfProg | number {
  const q = clsact_of.get(dev);
  if (q === undefined) return -ERRNO.EINVAL;
  if (prog.type !== BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS) return -ERRNO.EINVAL;
  const miniq = q.miniq(dir);
  const protocol = o.protocol ?? ETH_P_ALL;
  let prio = o.prio ?? 0;
  if (!Number.isInteger(prio) || prio < 0 || prio > 0xffff) return -ERRNO.EINVAL;
  const name = o.name ?? prog.name;
  if (name.length >= CLS_BPF_NAME_LEN) return -ERRNO.EINVAL;
  const chain = miniq.chain;
  if (prio === 0) {
    // tcf_auto_prio: one below the chain's last proto, or 49152 on an empty chain.
    const last = chain[chain.length - 1];
    prio = last === undefined ? TC_AUTO_PRIO_FIRST : last.prio - 1;
    if (prio === 0) return -ERRNO.EINVAL;
  }
  let tp = chain.find((p) => p.prio === prio);
  // tc sends ETH_P_ALL when `protocol` is not given, so a proto of another protocol is a mismatch too.
  if (tp !== undefined && tp.protocol !== protocol) return -ERRNO.EINVAL;
  let handle = o.handle ?? 0;
  if (!Number.isInteger(handle) || handle < 0 || handle > 0xffffffff) return -ERRNO.EINVAL;
  const old = handle !== 0 && tp !== undefined ? tp.progs.find((p) => p.handle === handle) : undefined;
  if (old !== undefined && o.replace !== true) return -ERRNO.EEXIST;
  if (handle === 0) {
    const used = new Set(tp?.progs.map((p) => p.handle) ?? []);
    handle = 1;
    while (used.has(handle) && handle <= CLS_BPF_HANDLE_MAX) handle++;
    if (handle > CLS_BPF_HANDLE_MAX) return -ERRNO.ENOSPC;
  }
  // The device's netns is what the program's socket helpers and fib_lookup see.
  const netHost = o.netHost ?? (dev.nd_net !== null ? net_bpf_host(dev.nd_net) : undefined);
  const runner = new SkbProgramRunner(prog, { engine: o.engine, netHost, verify: o.verify, seed: o.seed, cpu: o.cpu });
  if (tp === undefined) {
    tp = new TcfProto(prio, protocol);
    const at = chain.findIndex((p) => p.prio > prio);
    // Replaced, not mutated: a classification in progress keeps the array it started with.
    miniq.chain = at < 0 ? [...chain, tp] : [...chain.slice(0, at), tp, ...chain.slice(at)];
  }
  const cp = new ClsBpfProg(tp, handle, prog, runner, name, o.direct_action ?? true, (o.classid ?? 0) >>> 0);
  tp.progs = old !== undefined ? tp.progs.map((p) => (p === old ? cp : p)) : [cp, ...tp.progs];
  const hooks = hooks_of(dev, dir);
  if (!hooks.includes(miniq)) hooks.push(miniq);
  return cp;
}

/** Which filters `tc filter del` names: all of the direction, a prio, or one handle of a prio. */
export interface TcFilterSelector {
  prio?: number;
  handle?: number;
  protocol?: number;
}

/**
 * `tc filter del dev X ingress|egress [prio P [handle H bpf]]`: 0, or -EINVAL without a qdisc,
 * -ENOENT when nothing matches ("Filter with specified priority/protocol not found"; the handle
 * one). A direction left without filters leaves the device's hook list.
 */
export function tc_filter_del(dev: NetDevice, dir: TcDirection, sel: TcFilterSelector = {}): number {
  const q = clsact_of.get(dev);
  if (q === undefined) return -ERRNO.EINVAL;
  const miniq = q.miniq(dir);
  if (sel.prio === undefined || sel.prio === 0) {
    if (sel.handle !== undefined && sel.handle !== 0) return -ERRNO.ENOENT;
    miniq.chain = sel.protocol === undefined ? [] : miniq.chain.filter((p) => p.protocol !== sel.protocol);
  } else {
    const tp = miniq.chain.find((p) => p.prio === sel.prio && (sel.protocol === undefined || p.protocol === sel.protocol));
    if (tp === undefined) return -ERRNO.ENOENT;
    if (sel.handle === undefined || sel.handle === 0) {
      miniq.chain = miniq.chain.filter((p) => p !== tp);
    } else {
      const cp = tp.progs.find((p) => p.handle === sel.handle);
      if (cp === undefined) return -ERRNO.ENOENT;
      tp.progs = tp.progs.filter((p) => p !== cp);
      // The last filter of a proto takes the proto with it (tcf_proto destroyed when empty).
      if (tp.progs.length === 0) miniq.chain = miniq.chain.filter((p) => p !== tp);
    }
  }
  if (miniq.chain.length === 0) unhook(hooks_of(dev, dir), miniq);
  return 0;
}

/** One line of `tc filter show dev X ingress|egress`, as data. */
export interface TcFilterInfo {
  dev: string;
  ifindex: number;
  dir: TcDirection;
  /** Host order; ETH_P_ALL is "all". */
  protocol: number;
  prio: number;
  kind: 'bpf';
  chain: 0;
  handle: number;
  name: string;
  direct_action: boolean;
  classid: number;
  prog: Program;
  filter: ClsBpfProg;
}

/** The filters of one direction in the order they run (`tc filter show` lists them so). */
export function tc_filter_list(dev: NetDevice, dir: TcDirection): TcFilterInfo[] {
  const q = clsact_of.get(dev);
  if (q === undefined) return [];
  const out: TcFilterInfo[] = [];
  for (const tp of q.miniq(dir).chain) {
    for (const p of tp.progs) {
      out.push({
        dev: dev.name, ifindex: dev.ifindex, dir, protocol: tp.protocol, prio: tp.prio, kind: 'bpf', chain: 0, handle: p.handle,
        name: p.bpf_name, direct_action: p.direct_action, classid: p.classid, prog: p.prog, filter: p,
      });
    }
  }
  return out;
}

/**
 * libbpf's bpf_tc_hook_create + bpf_tc_attach: the clsact qdisc if missing, then a direct-action
 * filter (prio and handle as given, or assigned). The ClsBpfProg or a negative errno.
 */
export function bpf_tc_attach(dev: NetDevice, dir: TcDirection, prog: Program, o: ClsBpfOptions = {}): ClsBpfProg | number {
  if (!clsact_of.has(dev)) qdisc_create_clsact(dev);
  return tc_filter_add(dev, dir, prog, { ...o, direct_action: true });
}

/** libbpf's bpf_tc_detach: the filter at (prio, handle). 0 or a negative errno. */
export function bpf_tc_detach(dev: NetDevice, dir: TcDirection, prio: number, handle: number): number {
  if (prio === 0 || handle === 0) return -ERRNO.EINVAL;
  return tc_filter_del(dev, dir, { prio, handle });
}
