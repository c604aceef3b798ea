// Calls of kernel functions (BPF_PSEUDO_KFUNC_CALL: imm is the FUNC's id in vxo's kernel BTF), as
// the kernel's add_kfunc_call (before the walk: a GPL-compatible program, an id that is a kfunc)
// and check_kfunc_call / check_kfunc_args (on the walk: the program type's set, each argument
// against the BTF prototype). An argument's kind comes from its BTF type and the register given
// (get_kfunc_ptr_arg_type): the context, a kernel struct (a BTF pointer or a socket pointer, matched
// with btf_struct_ids_match; a KF_TRUSTED_ARGS kfunc wants it referenced or trusted), or memory the
// size of the pointee, or of the next `__sz` argument. R0 is a scalar, a BTF pointer or nothing, as
// the prototype returns; r1-r5 are clobbered; no reference is taken or dropped by vxo's kfuncs.
import type { BtfType } from '../btf/types.ts';
import { kernelBtf, type KernelKfunc } from '../btf/kernel-btf.ts';
import { KF } from '../btf/kernel-types.ts';
import type { Insn } from '../isa/insn.ts';
import { BPF_PSEUDO_CALL_KIND } from '../isa/opcodes.ts';
import type { Program } from '../prog/program.ts';
import { BPF_PROG_TYPE } from '../prog/types.ts';
import { btfStructIdsMatch, regStructId, REG2BTF_STRUCT } from './btf-match.ts';
import { isGplCompatible, type Env } from './env.ts';
import { invalid, reject, Reject } from './env-types.ts';
import { helperMemAccess } from './helper-mem.ts';
import { MAX_VAR_OFF } from './mem-access.ts';
import {
  BTF_FLAG, isKnownZero, isTrustedReg, mayBeNull, NOT_INIT, ptrReg, regTypeStr, UNKNOWN_SCALAR, type Reg,
} from './reg-state.ts';
import { isConst } from './scalar.ts';
import type { VState } from './state.ts';
import { tnumToString } from './tnum.ts';

const isKfuncCall = (ins: Insn): boolean => ins.code === 0x85 && ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_KFUNC_CALL;

/**
 * add_kfunc_call over the whole program, reachable or not (the kernel's add_subprog_and_kfunc):
 * kfuncs only for GPL-compatible programs, and every call's imm a kfunc of vxo's kernel BTF.
 */
export function addKfuncCalls(prog: Program): void {
  let first = true;
  for (let pc = 0; pc < prog.insns.length; pc++) {
    const ins = prog.insns[pc]!;
    if (ins.code === 0x18) { pc++; continue; }
    if (!isKfuncCall(ins)) continue;
    if (first && !isGplCompatible(prog.license)) throw new Reject('EINVAL', 'cannot call kernel function from non-GPL compatible program', [], pc);
    first = false;
    if (kernelBtf().kfuncById(ins.imm) === undefined) throw new Reject('EINVAL', `kernel btf_id ${ins.imm >>> 0} is not a function`, [], pc);
  }
}

type Composite = Extract<BtfType, { kind: 'struct' | 'union' }>;
const btfType = (id: number): BtfType | undefined => kernelBtf().btf.type(kernelBtf().btf.skipQualifiers(id));
const isScalarType = (t: BtfType | undefined): boolean => t?.kind === 'int' || t?.kind === 'enum' || t?.kind === 'enum64' || t?.kind === 'float';
const isComposite = (t: BtfType | undefined): t is Composite => t?.kind === 'struct' || t?.kind === 'union';

/** btf_type_str: the kind as the kernel's messages spell it. */
const KIND_STR: Readonly<Record<string, string>> = {
  int: 'INT', ptr: 'PTR', array: 'ARRAY', struct: 'STRUCT', union: 'UNION', enum: 'ENUM', fwd: 'FWD', typedef: 'TYPEDEF',
  func: 'FUNC', func_proto: 'FUNC_PROTO', float: 'FLOAT', enum64: 'ENUM64',
};
const kindStr = (t: BtfType | undefined): string => (t === undefined ? 'UNKN' : KIND_STR[t.kind] ?? t.kind.toUpperCase());

/** __btf_type_is_scalar_struct: a struct of scalars and arrays of scalars, nested structs included. */
function isScalarStruct(t: BtfType | undefined, depth: number): boolean {
  if (!isComposite(t) || depth > 3) return false;
  for (const m of t.members) {
    let mt = btfType(m.type);
    if (mt?.kind === 'array') {
      mt = btfType(mt.type);
      if (mt?.kind === 'array') return false;
    }
    if (isComposite(mt)) { if (!isScalarStruct(mt, depth + 1)) return false; continue; }
    if (!isScalarType(mt)) return false;
  }
  return true;
}

/** The struct a program type's context is in the kernel (what bpf_cast_to_kern_ctx returns, a kfunc's ctx argument). */
const KERN_CTX: Readonly<Record<number, readonly [user: string, kern: string]>> = {
  [BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER]: ['__sk_buff', 'sk_buff'],
  [BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS]: ['__sk_buff', 'sk_buff'],
  [BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT]: ['__sk_buff', 'sk_buff'],
  [BPF_PROG_TYPE.BPF_PROG_TYPE_CGROUP_SKB]: ['__sk_buff', 'sk_buff'],
  [BPF_PROG_TYPE.BPF_PROG_TYPE_XDP]: ['xdp_md', 'xdp_buff'],
  [BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP]: ['bpf_sk_lookup', 'bpf_sk_lookup_kern'],
};

const nameHas = (name: string, suffix: string): boolean => name.length > suffix.length && name.endsWith(suffix);

interface Param { readonly name: string; readonly type: number }

const enum Kind { Ctx, Null, BtfId, Mem, MemSize }

/** get_kfunc_ptr_arg_type: the argument's kind, from its BTF type and the register passed. */
function ptrArgKind(env: Env, k: KernelKfunc, params: readonly Param[], i: number, r: Reg, next: Reg | undefined): { kind: Kind; ref: BtfType | undefined } {
  const p = params[i]!;
  const ptr = btfType(p.type);
  const refId = ptr?.kind === 'ptr' ? kernelBtf().btf.skipQualifiers(ptr.type) : 0;
  const ref = kernelBtf().btf.type(refId);
  if (k.spec.name === 'bpf_cast_to_kern_ctx') return { kind: Kind.Ctx, ref };
  const ctx = KERN_CTX[env.progType];
  if (ctx !== undefined && isComposite(ref) && (ref.name === ctx[0] || ref.name === ctx[1])) return { kind: Kind.Ctx, ref };
  if (nameHas(p.name, '__nullable') && isKnownZero(r)) return { kind: Kind.Null, ref };
  if (r.type === 'ptr_' || r.type === 'ptr_or_null_' || REG2BTF_STRUCT[r.type] !== undefined) {
    if (!isComposite(ref)) reject(`kernel function ${k.spec.name} args#${i} pointer type ${kindStr(ref)} ${ref?.name ?? ''} is not supported`);
    return { kind: Kind.BtfId, ref };
  }
  const sizeParam = params[i + 1];
  const memSize = sizeParam !== undefined && next !== undefined && next.type === 'scalar' &&
    (nameHas(sizeParam.name, '__sz') || nameHas(sizeParam.name, '__szk')) && isScalarType(btfType(sizeParam.type));
  if (!isScalarType(ref) && !isScalarStruct(ref, 0) && !(memSize && refId === 0)) {
    invalid(`arg#${i} pointer type ${kindStr(ref)} ${ref?.name ?? ''} must point to ${memSize ? 'void, ' : ''}scalar, or struct with scalar`);
  }
  return { kind: memSize ? Kind.MemSize : Kind.Mem, ref };
}

/**
 * check_func_arg_reg_off for a kfunc's pointer argument: memory pointers may be moved, a BTF pointer
 * by a constant only, anything else (the context, sockets) not at all.
 */
function checkArgRegOff(r: Reg, regno: number): void {
  switch (r.type) {
    case 'stack': case 'pkt': case 'pkt_meta': case 'map_key': case 'map_value': case 'ringbuf_mem':
    case 'rdonly_untrusted_mem': case 'scalar':
      return;
    default:
      if (r.type !== 'ptr_' && r.off !== 0) reject(`dereference of modified ${regTypeStr(r)} ptr R${regno} off=${r.off} disallowed`);
      if (!isConst(r.s) || r.s.t.value !== 0n) reject(`variable ${regTypeStr(r)} access var_off=${tnumToString(r.s.t)} disallowed`);
  }
}

/**
 * check_kfunc_mem_size_reg: the size register bounds [ptr, ptr + size), readable and writable. The
 * kernel adds its own line to any failure, and reports a failed memory check as EINVAL.
 */
function checkMemSize(env: Env, st: VState, memRegno: number, sizeRegno: number, argno: number): void {
  const pair = `arg#${argno} arg#${argno + 1} memory, len pair leads to invalid memory access`;
  const sz = st.reg(sizeRegno);
  const mem = st.reg(memRegno);
  if (sz.s.smin < 0n) reject(`R${sizeRegno} min value is negative, either use unsigned or 'var &= const'`, pair);
  if (sz.s.umax >= BigInt(MAX_VAR_OFF)) reject(`R${sizeRegno} unbounded memory access, use 'var &= const' or 'if (var < const)'`, pair);
  const size = Number(sz.s.umax);
  try {
    helperMemAccess(env, st, memRegno, mem, size, false, true);
    helperMemAccess(env, st, memRegno, mem, size, true, true);
  } catch (e) {
    if (!(e instanceof Reject)) throw e;
    throw new Reject('EINVAL', e.message, [...e.extra, pair]);
  }
}

interface Meta {
  /** bpf_rdonly_cast's btf_id__k. */
  constArg: bigint | undefined;
}

/** check_kfunc_args. */
function checkArgs(env: Env, st: VState, k: KernelKfunc, params: readonly Param[], meta: Meta): void {
  const trustedArgs = (k.spec.flags & (KF.KF_TRUSTED_ARGS | KF.KF_RCU)) !== 0;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const regno = i + 1;
    const r = st.reg(regno);
    env.scratchReg(regno);
    if (nameHas(p.name, '__ign')) continue;
    const t = btfType(p.type);
    if (isScalarType(t)) {
      if (r.type !== 'scalar') invalid(`R${regno} is not a scalar`);
      if (nameHas(p.name, '__k')) {
        if (!isConst(r.s)) invalid(`R${regno} must be a known constant`);
        meta.constArg = r.s.t.value;
      }
      continue;
    }
    if (t?.kind !== 'ptr') invalid(`Unrecognized arg#${i} type ${kindStr(t)}`);
    if ((isKnownZero(r) || mayBeNull(r.type)) && !nameHas(p.name, '__nullable')) reject(`Possibly NULL pointer passed to trusted arg${i}`);
    const { kind, ref } = ptrArgKind(env, k, params, i, r, st.reg(regno + 1));
    switch (kind) {
      case Kind.Null: continue;
      case Kind.Ctx:
        checkArgRegOff(r, regno);
        if (r.type !== 'ctx') invalid(`arg#${i} expected pointer to ctx, but got ${regTypeStr(r)}`);
        continue;
      case Kind.BtfId: {
        if (trustedArgs && !isTrustedReg(r)) invalid(`R${regno} must be referenced or trusted`);
        // A BTF pointer's fixed offset is allowed (the struct found there must match).
        checkArgRegOff(r, regno);
        // An untrusted pointer may go where any BTF pointer goes, but not to a kfunc.
        if (r.type === 'ptr_' && (r.flags & BTF_FLAG.PTR_UNTRUSTED) !== 0 && (r.flags & BTF_FLAG.MEM_RCU) === 0) invalid(`arg#${i} is ${regTypeStr(r)} expected ptr_ or socket`);
        const need = ref === undefined ? 0 : ref.id;
        const have = regStructId(r);
        if (!btfStructIdsMatch(have, r.type === 'ptr_' ? r.off : 0, need, false)) {
          const hr = kernelBtf().btf.type(have);
          invalid(`kernel function ${k.spec.name} args#${i} expected pointer to ${kindStr(ref)} ${ref?.name ?? ''} but R${regno} has a pointer to ${kindStr(hr)} ${hr?.name ?? ''}`);
        }
        continue;
      }
      case Kind.Mem: {
        checkArgRegOff(r, regno);
        const size = ref === undefined ? 0 : kernelBtf().btf.sizeOf(ref.id);
        helperMemAccess(env, st, regno, r, size, false, false);
        helperMemAccess(env, st, regno, r, size, true, false);
        continue;
      }
      case Kind.MemSize: {
        checkArgRegOff(r, regno);
        env.scratchReg(regno + 1);
        checkMemSize(env, st, regno, regno + 1, i);
        i++;
        continue;
      }
    }
  }
}

/** check_kfunc_call: the call at pc on the current path. */
export function checkKfuncCall(env: Env, st: VState, imm: number): void {
  const k = kernelBtf().kfuncById(imm);
  if (k === undefined) invalid(`kernel btf_id ${imm >>> 0} is not a function`);
  if (k.spec.progTypes.length > 0 && !k.spec.progTypes.includes(env.progType)) reject(`calling kernel function ${k.spec.name} is not allowed`);
  const proto = kernelBtf().btf.type(k.protoId);
  if (proto?.kind !== 'func_proto') throw new Reject('EINVAL', `kernel function btf_id ${imm} does not have a valid func_proto`);
  const meta: Meta = { constArg: undefined };
  checkArgs(env, st, k, proto.params, meta);
  const name = k.spec.name;
  if (name === 'bpf_rcu_read_lock') {
    // 6.18 has one section at a time.
    if (st.rcuLocks > 0) invalid(`nested rcu read lock (kernel function ${name})`);
    st.rcuLocks = 1;
  } else if (name === 'bpf_rcu_read_unlock') {
    if (st.rcuLocks === 0) invalid(`unmatched rcu read unlock (kernel function ${name})`);
    st.rcuLocks = 0;
    // Out of the read-side section, what RCU protected is no longer safe to pass on.
    st.mapAllRegs((r) => ((r.flags & BTF_FLAG.MEM_RCU) !== 0 ? { ...r, type: 'ptr_', flags: BTF_FLAG.PTR_UNTRUSTED } : r));
  }
  for (let r = 0; r <= 5; r++) st.setReg(r, NOT_INIT);
  env.scratchReg(0);
  st.setReg(0, returnReg(env, k, proto.returnType, meta));
}

function returnReg(env: Env, k: KernelKfunc, retType: number, meta: Meta): Reg {
  const btf = kernelBtf();
  if (k.spec.name === 'bpf_cast_to_kern_ctx') {
    const id = btf.typeId(KERN_CTX[env.progType]?.[1] ?? '', 'struct');
    if (id === undefined) invalid(`the prog type ${env.progType} does not support convert_ctx_access`);
    return ptrReg('ptr_', { btfId: id, flags: BTF_FLAG.PTR_TRUSTED });
  }
  if (k.spec.name === 'bpf_rdonly_cast') {
    const id = Number(meta.constArg ?? 0n);
    if (id === 0) return ptrReg('rdonly_untrusted_mem');
    const t = btf.btf.type(id);
    if (t?.kind !== 'struct') invalid('bpf_rdonly_cast type ID argument must be of a struct or void');
    return ptrReg('ptr_', { btfId: id, flags: BTF_FLAG.PTR_UNTRUSTED });
  }
  if (retType === 0) return NOT_INIT;
  const t = btfType(retType);
  if (isScalarType(t)) return UNKNOWN_SCALAR;
  throw new Reject('EINVAL', `kernel function ${k.spec.name} unhandled return type`);
}

/** The number of arguments a kfunc call passes (liveness), 5 for an unknown one. */
export function kfuncArgCount(imm: number): number {
  const k = kernelBtf().kfuncById(imm);
  const proto = k === undefined ? undefined : kernelBtf().btf.type(k.protoId);
  return proto?.kind === 'func_proto' ? proto.params.length : 5;
}

/** Whether a kfunc returns a pointer (the precision analysis' view of r0 after the call). */
export function kfuncReturnsPointer(imm: number): boolean {
  const k = kernelBtf().kfuncById(imm);
  const proto = k === undefined ? undefined : kernelBtf().btf.type(k.protoId);
  return proto?.kind === 'func_proto' && btfType(proto.returnType)?.kind === 'ptr';
}
