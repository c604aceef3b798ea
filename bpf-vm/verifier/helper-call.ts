// Helper calls: arguments checked against the helper's prototype (map pointers, key and value
// memory the size of the map's, memory + size pairs, context, sockets), map types matched to the
// helper, references acquired and released, r1-r5 clobbered, r0 typed by the return kind, and
// packet pointers dropped after helpers that may move the packet.
import { ARG, RET, type ArgKind, type HelperProto } from '../helpers/proto.ts';
import { helperRefusal } from '../helpers/availability.ts';
import { FOR_EACH_MAP_TYPES } from '../helpers/callbacks.ts';
import { MAX_CALL_FRAMES } from '../isa/opcodes.ts';
import { BPF_FUNC } from '../helpers/ids.ts';
import { BPF_MAP_TYPE } from '../maps/map.ts';
import { readReg } from './alu.ts';
import type { Env } from './env.ts';
import { invalid, Reject, reject } from './env-types.ts';
import { helperMemAccess } from './helper-mem.ts';
import { MAX_VAR_OFF } from './mem-access.ts';
import { acquireRef, releaseRef } from './refs.ts';
import { checkTailCallMap, checkTailCallRefs } from './tail-call.ts';
import {
  BTF_FLAG, isKnownZero, isPktPointer, isSkPointer, NOT_INIT, ptrReg, regTypeStr, UNKNOWN_SCALAR, type Reg, type RegType,
} from './reg-state.ts';
import { kernelBtf } from '../btf/kernel-btf.ts';
import { btfStructIdsMatch } from './btf-match.ts';
import { BPF_PROG_TYPE } from '../prog/types.ts';
import { byteIndex, SLOT_SPILL, SLOT_ZERO } from './stack.ts';
import { FuncState, type VState } from './state.ts';
import { isConst } from './scalar.ts';
import { tnumToString } from './tnum.ts';

const MEM_TYPES = 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_';

interface Meta {
  map: number;
  refId: number;
  memReg: number;
  memNull: boolean;
  /** The constant ARRAY key, when the key is a known constant on the stack. */
  constKey: bigint | undefined;
  /** ARG_CONST_ALLOC_SIZE_OR_ZERO's value: the size of the ringbuf record reserved. */
  allocSize: number;
  /** ARG_PTR_TO_FUNC's subprogram. */
  subprog: number;
}

const typeErr = (regno: number, r: Reg, expected: string): never => reject(`R${regno} type=${regTypeStr(r)} expected=${expected}`);

/**
 * Checks a helper call and applies it to `st`. For a helper that runs a callback, returns the state
 * in which the callback starts (a frame above the caller's, the caller as it was before the call),
 * to be verified after the caller's path: the kernel's push_callback_call.
 */
export function checkHelperCall(env: Env, st: VState, pc: number, id: number): VState | undefined {
  const proto = env.helpers.get(id);
  if (proto === undefined) {
    const why = helperRefusal(env.progType, id);
    throw new Reject(why.code, why.message);
  }
  const meta: Meta = { map: -1, refId: 0, memReg: 0, memNull: false, constKey: undefined, allocSize: 0, subprog: -1 };
  // bpf_trace_printk's format arguments are variadic: the kernel checks only the format and its size.
  const args = proto.id === BPF_FUNC.trace_printk ? proto.args.slice(0, 2) : proto.args;
  args.forEach((kind, i) => checkArg(env, st, proto, meta, kind, i + 1));
  if (proto.id === BPF_FUNC.tail_call) checkTailCallMap(env.map(meta.map).spec.type);
  checkMapCompat(env, proto, meta);
  if (proto.id === BPF_FUNC.tail_call) checkTailCallRefs(st);
  if (proto.releases) {
    if (meta.refId === 0) reject(`func bpf_${proto.name}#${proto.id} reference has not been acquired before`);
    releaseRef(st, meta.refId, true);
  }
  const cb = meta.subprog >= 0 ? callbackState(env, st, pc, proto, meta) : undefined;
  for (let r = 1; r <= 5; r++) { st.setReg(r, NOT_INIT); env.scratchReg(r); }
  if (proto.changesPktData) {
    st.mapAllRegs((r) => (isPktPointer(r.type) || r.type === 'pkt_end' ? UNKNOWN_SCALAR : r));
  }
  env.scratchReg(0);
  st.setReg(0, returnReg(env, st, proto, meta, pc));
  return cb;
}

/**
 * The callback's first state (set_loop_callback_state, map_set_for_each_callback_args): bpf_loop's
 * callback gets (index, ctx), bpf_for_each_map_elem's (map, key, value, ctx). bpf_loop schedules
 * no further visit once the callback was walked nr_loops times on this path (callback_depth).
 */
function callbackState(env: Env, st: VState, pc: number, proto: HelperProto, meta: Meta): VState | undefined {
  const caller = st.cur;
  if (proto.id === BPF_FUNC.for_each_map_elem && !FOR_EACH_MAP_TYPES.has(env.map(meta.map).spec.type)) {
    throw new Reject('ENOTSUPP', 'callback function not allowed for map');
  }
  if (proto.id === BPF_FUNC.loop && BigInt(caller.callbackDepth) >= caller.regs[1]!.s.umax) {
    caller.callbackDepth = 0;
    if ((env.log.level & 2) !== 0) env.log.add(`frame${st.curframe} bpf_loop iteration limit reached`);
    return undefined;
  }
  if (st.frames.length >= MAX_CALL_FRAMES) throw new Reject('E2BIG', `the call stack of ${st.frames.length + 1} frames is too deep`);
  const cb = st.clone();
  const from = cb.cur;
  from.callbackDepth++;
  caller.callbackDepth = 0;
  const callee = FuncState.fresh(cb.frames.length, pc, meta.subprog, true);
  if (proto.id === BPF_FUNC.loop) {
    callee.regs[1] = UNKNOWN_SCALAR;
    callee.regs[2] = from.regs[3]!;
  } else {
    callee.regs[1] = from.regs[1]!;
    callee.regs[2] = ptrReg('map_key', { map: meta.map, range: env.map(meta.map).spec.keySize });
    callee.regs[3] = ptrReg('map_value', { map: meta.map });
    callee.regs[4] = from.regs[3]!;
  }
  cb.frames.push(callee);
  return cb;
}

function returnReg(env: Env, st: VState, proto: HelperProto, meta: Meta, pc: number): Reg {
  switch (proto.ret) {
    case RET.RET_VOID: return NOT_INIT;
    case RET.RET_INTEGER: return UNKNOWN_SCALAR;
    case RET.RET_PTR_TO_MAP_VALUE_OR_NULL: {
      const m = env.map(meta.map).spec;
      // A sockmap lookup yields the socket, acquired (is_acquire_function), released with bpf_sk_release.
      if (isSockMap(m.type)) {
        env.newId();
        const id = env.newId();
        acquireRef(st, id, pc);
        return ptrReg('sock_or_null', { id, refId: id });
      }
      const array = m.type === BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY || m.type === BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY;
      // A constant key below max_entries always finds an ARRAY element.
      if (array && meta.constKey !== undefined && meta.constKey < BigInt(m.maxEntries)) return ptrReg('map_value', { map: meta.map });
      return ptrReg('map_value_or_null', { map: meta.map, id: env.newId() });
    }
    case RET.RET_PTR_TO_SOCKET_OR_NULL: return sockResult(env, st, proto, meta, pc, 'sock_or_null');
    case RET.RET_PTR_TO_SOCK_COMMON_OR_NULL: return sockResult(env, st, proto, meta, pc, 'sock_common_or_null');
    case RET.RET_PTR_TO_TCP_SOCK_OR_NULL: return sockResult(env, st, proto, meta, pc, 'tcp_sock_or_null');
    case RET.RET_PTR_TO_BTF_ID_OR_NULL: {
      const btfId = proto.retBtfStruct === undefined ? undefined : kernelBtf().typeId(proto.retBtfStruct, 'struct');
      if (btfId === undefined) throw new Reject('EFAULT', `verifier bug: invalid return type ${proto.ret} of func bpf_${proto.name}#${proto.id}`);
      // A cast (bpf_skc_to_tcp_sock) carries its argument's reference, as bpf_tcp_sock does.
      return ptrReg('ptr_or_null_', { btfId, id: env.newId(), refId: proto.castsRef === true ? meta.refId : 0 });
    }
    case RET.RET_PTR_TO_RINGBUF_MEM_OR_NULL: {
      // As for sockets: the nullable id first, then the reference, whose id the register keeps.
      env.newId();
      const id = env.newId();
      acquireRef(st, id, pc);
      return ptrReg('ringbuf_mem_or_null', { id, refId: id, range: meta.allocSize });
    }
  }
}

/**
 * A nullable socket result: the kernel numbers it first, then an acquired reference, whose id the
 * register keeps; a cast (bpf_sk_fullsock, bpf_tcp_sock) keeps its own id and carries the
 * argument's reference instead.
 */
function sockResult(env: Env, st: VState, proto: HelperProto, meta: Meta, pc: number, type: RegType): Reg {
  let id = env.newId();
  if (proto.castsRef === true) return ptrReg(type, { id, refId: meta.refId });
  if (proto.acquires !== true) return ptrReg(type, { id });
  id = env.newId();
  acquireRef(st, id, pc);
  return ptrReg(type, { id, refId: id });
}

export const isSockMap = (mapType: number): boolean =>
  mapType === BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP || mapType === BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH;

const SOCK_COMMON_TYPES = 'sock_common, sock, tcp_sock, xdp_sock';
const sockCommonId = (): number => kernelBtf().typeId('sock_common', 'struct') ?? 0;
const BTF_ID_SOCK_COMMON_TYPES = `${SOCK_COMMON_TYPES}, ptr_, trusted_ptr_`;

/**
 * The kernel's meta->ref_obj_id: the one argument holding a reference (a cast and a release act on
 * it); release arguments must hold one.
 */
function noteRef(proto: HelperProto, meta: Meta, r: Reg, regno: number): void {
  if (proto.releases === true && regno === 1 && r.refId === 0 && !isKnownZero(r)) {
    invalid(`R${regno} must be referenced when passed to release function`);
  }
  if (r.refId !== 0) meta.refId = r.refId;
}

function checkArg(env: Env, st: VState, proto: HelperProto, meta: Meta, kind: ArgKind, regno: number): void {
  if (kind === ARG.ARG_DONTCARE) return;
  const r = readReg(env, st, regno);
  switch (kind) {
    case ARG.ARG_ANYTHING: return;
    case ARG.ARG_PTR_TO_FUNC:
      if (r.type !== 'func') typeErr(regno, r, 'func');
      if (r.off !== 0) reject(`dereference of modified func ptr R${regno} off=${r.off} disallowed`);
      if (r.s.t.mask !== 0n || r.s.t.value !== 0n) reject(`variable func access var_off=${tnumToString(r.s.t)} disallowed`);
      meta.subprog = r.map;
      return;
    case ARG.ARG_PTR_TO_STACK_OR_NULL:
      if (isKnownZero(r)) return;
      if (r.type !== 'stack') typeErr(regno, r, 'fp');
      return;
    case ARG.ARG_CONST_MAP_PTR:
      if (r.type !== 'map_ptr') typeErr(regno, r, 'map_ptr');
      meta.map = r.map;
      if ((proto.id === BPF_FUNC.map_update_elem || proto.id === BPF_FUNC.map_delete_elem) && env.mapReadOnly(r.map)) {
        reject('write into map forbidden');
      }
      return;
    case ARG.ARG_PTR_TO_MAP_KEY: case ARG.ARG_PTR_TO_MAP_VALUE: {
      if (meta.map < 0) invalid(`invalid map_ptr to access map->${kind === ARG.ARG_PTR_TO_MAP_KEY ? 'key' : 'value'}`);
      const spec = env.map(meta.map).spec;
      // resolve_map_arg_type: what a program stores into a sockmap is a socket, not bytes.
      if (kind === ARG.ARG_PTR_TO_MAP_VALUE && isSockMap(spec.type)) {
        if (!isSkPointer(r.type)) typeErr(regno, r, BTF_ID_SOCK_COMMON_TYPES);
        noteRef(proto, meta, r, regno);
        return;
      }
      const size = kind === ARG.ARG_PTR_TO_MAP_KEY ? spec.keySize : spec.valueSize;
      if (!['stack', 'pkt', 'pkt_meta', 'map_value', 'map_key'].includes(r.type)) typeErr(regno, r, 'fp, pkt, pkt_meta, map_key, map_value');
      helperMemAccess(env, st, regno, r, size, false, false);
      if (kind === ARG.ARG_PTR_TO_MAP_KEY && proto.id === BPF_FUNC.map_lookup_elem) meta.constKey = constStackKey(st, r, size);
      return;
    }
    case ARG.ARG_PTR_TO_MEM: case ARG.ARG_PTR_TO_MEM_OR_NULL: case ARG.ARG_PTR_TO_UNINIT_MEM:
      meta.memReg = regno;
      meta.memNull = kind === ARG.ARG_PTR_TO_MEM_OR_NULL && isKnownZero(r);
      if (!meta.memNull && !['stack', 'pkt', 'pkt_meta', 'map_value', 'ringbuf_mem'].includes(r.type)) typeErr(regno, r, MEM_TYPES);
      return;
    case ARG.ARG_CONST_SIZE: case ARG.ARG_CONST_SIZE_OR_ZERO: {
      const zeroOk = kind === ARG.ARG_CONST_SIZE_OR_ZERO;
      if (r.type !== 'scalar') typeErr(regno, r, 'scalar');
      if (r.s.smin < 0n) reject(`R${regno} min value is negative, either use unsigned or 'var &= const'`);
      if (r.s.umax >= BigInt(MAX_VAR_OFF)) reject(`R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
      if (r.s.umin === 0n && !zeroOk) reject(`R${regno} invalid zero-sized read: u64=[${r.s.umin},${r.s.umax}]`);
      const memRegno = meta.memReg;
      const mem = st.reg(memRegno);
      const size = Number(r.s.umax);
      const write = proto.args[memRegno - 1] === ARG.ARG_PTR_TO_UNINIT_MEM;
      if (meta.memNull) {
        if (size !== 0) typeErr(memRegno, mem, 'fp');
        return;
      }
      helperMemAccess(env, st, memRegno, mem, size, write, zeroOk);
      return;
    }
    case ARG.ARG_PTR_TO_FIXED_SIZE_MEM: {
      if (!['stack', 'pkt', 'pkt_meta', 'map_value'].includes(r.type)) typeErr(regno, r, MEM_TYPES);
      helperMemAccess(env, st, regno, r, proto.fixedSize ?? 8, true, false);
      return;
    }
    case ARG.ARG_PTR_TO_CTX:
      if (r.type !== 'ctx') typeErr(regno, r, 'ctx');
      if (r.off !== 0) reject(`dereference of modified ctx ptr R${regno} off=${r.off} disallowed`);
      if (r.s.t.mask !== 0n || r.s.t.value !== 0n) reject(`variable ctx access var_off=${tnumToString(r.s.t)} disallowed`);
      return;
    case ARG.ARG_PTR_TO_SOCKET:
      if (r.type !== 'sock') typeErr(regno, r, 'sock');
      noteRef(proto, meta, r, regno);
      return;
    case ARG.ARG_PTR_TO_SOCKET_OR_NULL:
      // A NULL constant skips the type check; a nullable socket is accepted as it is.
      if (isKnownZero(r)) return;
      if (r.type !== 'sock' && r.type !== 'sock_or_null') typeErr(regno, r, 'sock');
      noteRef(proto, meta, r, regno);
      return;
    case ARG.ARG_CONST_ALLOC_SIZE_OR_ZERO:
      if (r.type !== 'scalar') typeErr(regno, r, 'scalar');
      if (!isConst(r.s)) reject(`R${regno} is not a known constant'`);
      meta.allocSize = Number(r.s.t.value > 0xffffffffn ? 0xffffffffn : r.s.t.value);
      return;
    case ARG.ARG_PTR_TO_RINGBUF_MEM:
      if (r.type !== 'ringbuf_mem') typeErr(regno, r, 'ringbuf_mem');
      if (r.off !== 0 || !isConst(r.s) || r.s.t.value !== 0n) {
        reject(`R${regno} must have zero offset when passed to release func or trusted arg to kfunc`);
      }
      if (r.refId === 0) reject(`R${regno} must be referenced when passed to release function`);
      meta.refId = r.refId;
      return;
    case ARG.ARG_PTR_TO_SOCK_COMMON:
      if (!isSkPointer(r.type)) typeErr(regno, r, SOCK_COMMON_TYPES);
      noteRef(proto, meta, r, regno);
      return;
    case ARG.ARG_PTR_TO_BTF_ID_SOCK_COMMON:
      if (r.type === 'ptr_' && (r.flags === 0 || r.flags === BTF_FLAG.PTR_TRUSTED)) {
        // bpf_sk_release takes any socket struct (one that starts with a sock_common).
        const strict = proto.releases === true && proto.id !== BPF_FUNC.sk_release;
        if (!btfStructIdsMatch(r.btfId, r.off, sockCommonId(), strict)) {
          reject(`R${regno} is of type ${kernelBtf().btf.type(r.btfId)?.name ?? ''} but sock_common is expected`);
        }
      } else if (!isSkPointer(r.type)) typeErr(regno, r, BTF_ID_SOCK_COMMON_TYPES);
      noteRef(proto, meta, r, regno);
      return;
  }
}

/** The key's value when it is a known constant in the stack (a spilled scalar or zero bytes). */
function constStackKey(st: VState, r: Reg, size: number): bigint | undefined {
  if (r.type !== 'stack' || size > 8 || r.s.t.mask !== 0n) return undefined;
  const off = r.off + Number(BigInt.asIntN(64, r.s.t.value));
  const stack = st.frames[r.frame]!.stack;
  const b = byteIndex(off);
  if (stack.allZero(b, b + size)) return 0n;
  const sp = stack.spills[b >> 3];
  if (sp === undefined || sp.reg.type !== 'scalar' || sp.reg.s.t.mask !== 0n) return undefined;
  const s0 = (b & ~7) + sp.start;
  if (b < s0 || b + size > s0 + sp.size) return undefined;
  for (let i = b; i < b + size; i++) if (stack.types[i] !== SLOT_SPILL && stack.types[i] !== SLOT_ZERO) return undefined;
  const shift = BigInt(8 * (b - s0));
  return (sp.reg.s.t.value >> shift) & ((1n << BigInt(8 * size)) - 1n);
}

const MAP_ONLY_FUNCS: ReadonlyMap<number, readonly number[]> = new Map([
  [BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY, [BPF_FUNC.tail_call]],
  [BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP, [BPF_FUNC.redirect_map, BPF_FUNC.map_lookup_elem]],
  [BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP_HASH, [BPF_FUNC.redirect_map, BPF_FUNC.map_lookup_elem]],
  [BPF_MAP_TYPE.BPF_MAP_TYPE_CPUMAP, [BPF_FUNC.redirect_map]],
  [BPF_MAP_TYPE.BPF_MAP_TYPE_XSKMAP, [BPF_FUNC.redirect_map, BPF_FUNC.map_lookup_elem]],
  [BPF_MAP_TYPE.BPF_MAP_TYPE_RINGBUF, [BPF_FUNC.ringbuf_output, BPF_FUNC.ringbuf_reserve, BPF_FUNC.ringbuf_query]],
  [BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP, [BPF_FUNC.sk_redirect_map, BPF_FUNC.sock_map_update, BPF_FUNC.msg_redirect_map,
    BPF_FUNC.sk_select_reuseport, BPF_FUNC.map_lookup_elem]],
  [BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH, [BPF_FUNC.sk_redirect_hash, BPF_FUNC.sock_hash_update, BPF_FUNC.msg_redirect_hash,
    BPF_FUNC.sk_select_reuseport, BPF_FUNC.map_lookup_elem]],
]);

const BPF_PROG_TYPE_SK_REUSEPORT = 21;
const BPF_PROG_TYPE_FLOW_DISSECTOR = 22;

/**
 * may_update_sockmap: program types that never hold a locked socket may update and delete sockmap
 * entries (tracing iterators and sock_ops deletes too, types vxo does not run).
 */
const SOCKMAP_UPDATERS: ReadonlySet<number> = new Set([
  BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT,
  BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SK_REUSEPORT, BPF_PROG_TYPE_FLOW_DISSECTOR,
  BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP,
]);

function mayUpdateSockmap(env: Env, funcId: number): boolean {
  if (funcId !== BPF_FUNC.map_update_elem && funcId !== BPF_FUNC.map_delete_elem) return false;
  if (SOCKMAP_UPDATERS.has(env.progType)) return true;
  env.log.add('cannot update sockmap in this context');
  return false;
}

/** Helpers that take one map type only (the second half of check_map_func_compatibility). */
const FUNC_ONLY_MAPS: ReadonlyMap<number, number> = new Map([
  [BPF_FUNC.tail_call, BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY],
  [BPF_FUNC.ringbuf_output, BPF_MAP_TYPE.BPF_MAP_TYPE_RINGBUF],
  [BPF_FUNC.ringbuf_reserve, BPF_MAP_TYPE.BPF_MAP_TYPE_RINGBUF],
  [BPF_FUNC.ringbuf_query, BPF_MAP_TYPE.BPF_MAP_TYPE_RINGBUF],
  [BPF_FUNC.sk_redirect_map, BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP],
  [BPF_FUNC.sock_map_update, BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP],
  [BPF_FUNC.msg_redirect_map, BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP],
  [BPF_FUNC.sk_redirect_hash, BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH],
  [BPF_FUNC.sock_hash_update, BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH],
  [BPF_FUNC.msg_redirect_hash, BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH],
]);

/** Map types a helper accepts, and helpers a map type accepts (check_map_func_compatibility). */
function checkMapCompat(env: Env, proto: HelperProto, meta: Meta): void {
  if (meta.map < 0) return;
  const type = env.map(meta.map).spec.type;
  const bad = (): never => invalid(`cannot pass map_type ${type} into func bpf_${proto.name}#${proto.id}`);
  const only = MAP_ONLY_FUNCS.get(type);
  if (only !== undefined && !only.includes(proto.id) && !(isSockMap(type) && mayUpdateSockmap(env, proto.id))) bad();
  const need = FUNC_ONLY_MAPS.get(proto.id);
  if (need !== undefined && type !== need) bad();
  // vxo's bpf_redirect_map delivers through device maps only (CPU and XSK maps have no target here).
  if (proto.id === BPF_FUNC.redirect_map && type !== BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP && type !== BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP_HASH) bad();
}
