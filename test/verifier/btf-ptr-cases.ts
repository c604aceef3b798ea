// BTF-typed pointers and kfunc calls in the verifier: bpf_skc_to_tcp_sock's PTR_TO_BTF_ID, loads
// through it (check_ptr_to_btf_access), pointer members, bpf_cast_to_kern_ctx, the RCU read lock and
// bpf_sk_assign_tcp_reqsk's arguments. Struct offsets and kfunc ids differ between vxo's kernel BTF
// and a real kernel's, so each case is written against a Layout: test/verifier/btf-ptr.test.ts runs
// it with vxo's, test/kernel/btf-verifier-kernel.test.ts with the running kernel's, and both expect
// the same verdict and message.
import type { Btf } from '../../bpf-vm/btf/btf.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import type { BtfType } from '../../bpf-vm/btf/types.ts';

/** Where things are in one kernel BTF. */
export interface Layout {
  /** Byte offset of `path` (dot-separated, anonymous members skipped) in struct `s`. */
  off(s: string, path: string): number;
  size(s: string): number;
  /** A kfunc's BTF id. */
  kfunc(name: string): number;
  /** A struct's BTF id. */
  struct(name: string): number;
}

type Composite = Extract<BtfType, { kind: 'struct' | 'union' }>;
const isComposite = (t: BtfType | undefined): t is Composite => t?.kind === 'struct' || t?.kind === 'union';

export function btfLayout(btf: Btf): Layout {
  const named = (name: string, kind: string): BtfType => {
    const t = btf.types.find((x) => x !== undefined && x.name === name && x.kind === kind);
    if (t === undefined) throw new Error(`no ${kind} ${name}`);
    return t;
  };
  /** The member `name` of `t`, looking through anonymous members: its offset and type. */
  const member = (t: Composite, name: string): { off: number; type: number } | undefined => {
    for (const m of t.members) {
      const mt = btf.type(btf.skipQualifiers(m.type));
      if (m.name === name) return { off: m.bitOffset / 8, type: m.type };
      if (m.name === '' && isComposite(mt)) {
        const inner = member(mt, name);
        if (inner !== undefined) return { off: m.bitOffset / 8 + inner.off, type: inner.type };
      }
    }
    return undefined;
  };
  return {
    off(s, path) {
      let t = named(s, 'struct');
      let off = 0;
      for (const p of path.split('.')) {
        if (!isComposite(t)) throw new Error(`${s}.${path}: ${p} is not in a struct`);
        const m = member(t, p);
        if (m === undefined) throw new Error(`${s}.${path}: no member ${p}`);
        off += m.off;
        t = btf.type(btf.skipQualifiers(m.type))!;
      }
      return off;
    },
    size: (s) => (named(s, 'struct') as Composite).size,
    kfunc: (name) => named(name, 'func').id,
    struct: (name) => named(name, 'struct').id,
  };
}

export const vxoLayout = (): Layout => btfLayout(kernelBtf().btf);

export interface BtfCase {
  name: string;
  /** Program type: SCHED_CLS unless given. */
  type?: number;
  src: (L: Layout) => string;
  /** The rejection's message; absent for programs that must be accepted. */
  msg?: (L: Layout) => string;
  code?: 'EACCES' | 'EINVAL';
  /** A line the log must hold after the message (the kernel's second line). */
  extra?: string;
  /** vxo refuses what a privileged kernel accepts (stack bytes read before written). */
  ours?: boolean;
}

export const SCHED_CLS = 3, XDP = 6, SK_LOOKUP = 30;

// sock_common's fields are at the same places in every kernel's layout, the rest differ.
const SKC_STATE = (L: Layout): number => L.off('sock_common', 'skc_state');
const SKC_NUM = (L: Layout): number => L.off('sock_common', 'skc_num');

/** r6 = ctx; r7 = the socket lookup `helper` (acquired at insn 10: id 2) or exit 0. */
const lookup = (helper = 99): string => `mov %r6, %r1
mov %r2, 0
stxdw [%r10-16], %r2
stxw [%r10-8], %r2
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
mov %r1, %r6
call ${helper}
jne %r0, 0, +2
mov %r0, 0
exit
mov %r7, %r0
`;
/** The lookup, then (insn 16) r0 = helper `cast` of r7 (bpf_skc_to_tcp_sock), not yet NULL-checked. */
const lookupCast = (cast = 137): string => `${lookup()}mov %r1, %r7\ncall ${cast}\n`;
/** The cast, NULL-checked (NULL: release and exit at `out`), in r8. */
const castChecked = (): string => `${lookupCast()}jeq %r0, 0, out\nmov %r8, %r0\n`;
const out = 'out:\nmov %r1, %r7\ncall 86\nmov %r0, 0\nexit';

/** A zeroed struct bpf_tcp_req_attrs (20 bytes, `init` of them written) at fp-40, r3 = its address, r4 = `size` (null: r4 left alone). */
const attrs = (size: number | null = 20, init = 20): string => {
  let s = 'mov %r1, 0\n';
  if (init >= 8) s += 'stxdw [%r10-40], %r1\n';
  if (init >= 16) s += 'stxdw [%r10-32], %r1\n';
  if (init >= 20) s += 'stxw [%r10-24], %r1\n';
  return `${s}mov %r3, %r10\nadd %r3, -40\n${size === null ? '' : `mov %r4, ${size}\n`}`;
};
/** bpf_sk_assign_tcp_reqsk(ctx, r2, attrs, size) */
const assign = (L: Layout, r2 = '%r8', size = 20, init = 20): string =>
  `${attrs(size, init)}mov %r2, ${r2}\nmov %r1, %r6\ncall runtime ${L.kfunc('bpf_sk_assign_tcp_reqsk')}\n`;
/** r9 = bpf_cast_to_kern_ctx(ctx) (r1 must be ctx). */
const kernCtx = (L: Layout): string => `call runtime ${L.kfunc('bpf_cast_to_kern_ctx')}\nmov %r9, %r0\n`;
/** r1 = ctx->sk (a sock_common_or_null without reference), r0 = bpf_skc_to_tcp_sock(r1), exit 0 on NULL. */
const ctxSkCast = (): string => `mov %r6, %r1
ldxdw %r1, [%r1+168]
jeq %r1, 0, done
call 137
jeq %r0, 0, done
mov %r8, %r0
`;
const done = (ret = 0): string => `done:\nmov %r0, ${ret}\nexit`;

export const BTF_ACCEPT: readonly BtfCase[] = [
  { name: 'skc_to_tcp_sock: sock_common, tcp_sock and bitfield-free scalars of every width read, released through the lookup',
    src: (L) => `${castChecked()}ldxb %r1, [%r8+${SKC_STATE(L)}]\nldxh %r1, [%r8+${SKC_NUM(L)}]\nldxw %r1, [%r8+${L.off('tcp_sock', 'snd_cwnd')}]\n` +
      `ldxw %r1, [%r8+${L.off('tcp_sock', 'rcv_nxt')}]\nldxdw %r1, [%r8+${L.off('sock_common', 'skc_addrpair')}]\n${out}` },
  { name: 'released through the tcp_sock view (the cast carries the lookup\'s reference)',
    src: () => `${lookupCast()}jeq %r0, 0, out\nmov %r1, %r0\ncall 86\nmov %r0, 0\nexit\n${out}` },
  { name: 'a pointer member read (untrusted), compared with NULL, read through',
    src: (L) => `${castChecked()}ldxdw %r2, [%r8+${L.off('inet_sock', 'pinet6')}]\njeq %r2, 0, out\nldxw %r1, [%r2+${L.off('ipv6_pinfo', 'saddr')}]\n${out}` },
  { name: 'a walked pointer is read without a NULL check (the load is a PROBE_MEM one)',
    src: (L) => `${castChecked()}ldxdw %r2, [%r8+${L.off('inet_sock', 'pinet6')}]\nldxw %r1, [%r2+${L.off('ipv6_pinfo', 'saddr')}]\n${out}` },
  { name: 'constant pointer arithmetic on a BTF pointer: the offset adds up',
    src: (L) => `${castChecked()}mov %r2, %r8\nadd %r2, ${L.off('tcp_sock', 'snd_cwnd') - 4}\nldxw %r1, [%r2+4]\n${out}` },
  { name: 'skc_to_tcp_sock of ctx->sk (no reference): fields read, nothing to release',
    src: (L) => `${ctxSkCast()}ldxw %r1, [%r8+${L.off('tcp_sock', 'snd_cwnd')}]\n${done()}` },
  { name: 'bpf_sk_assign_tcp_reqsk with a referenced tcp_sock and a 20-byte attrs on the stack',
    src: (L) => `${castChecked()}${assign(L)}mov %r1, %r7\ncall 86\nmov %r0, 0\nexit\n${out}` },
  { name: 'bpf_sk_assign_tcp_reqsk takes the looked-up socket itself when it is a full sock (sk_lookup_tcp)',
    src: (L) => `${lookup(84)}${assign(L, '%r7')}mov %r1, %r7\ncall 86\nmov %r0, 0\nexit` },
  { name: 'a socket pointer without reference is trusted for the kfunc (reg2btf_ids): bpf_sk_fullsock(ctx->sk)',
    src: (L) => `mov %r6, %r1\nldxdw %r1, [%r1+168]\njeq %r1, 0, done\ncall 95\njeq %r0, 0, done\nmov %r8, %r0\n${assign(L)}${done()}` },
  { name: 'bpf_cast_to_kern_ctx: a trusted sk_buff; skb->sk is an RCU pointer, read after its NULL check',
    src: (L) => `mov %r6, %r1\n${kernCtx(L)}ldxdw %r2, [%r9+${L.off('sk_buff', 'sk')}]\njeq %r2, 0, done\nldxh %r1, [%r2+${L.off('sock_common', 'skc_family')}]\n${done()}` },
  { name: 'bpf_rdonly_cast: any pointer read as an untrusted struct; to void, as untrusted memory',
    src: (L) => `mov %r6, %r1\nmov %r2, ${L.struct('tcp_sock')}\ncall runtime ${L.kfunc('bpf_rdonly_cast')}\nldxw %r1, [%r0+${L.off('tcp_sock', 'snd_cwnd')}]\n` +
      `mov %r1, %r6\nmov %r2, 0\ncall runtime ${L.kfunc('bpf_rdonly_cast')}\nldxb %r1, [%r0+3]\nmov %r0, 0\nexit` },
  { name: 'SK_LOOKUP: bpf_skc_to_tcp_sock of ctx->sk, a field read', type: SK_LOOKUP,
    src: (L) => `ldxdw %r1, [%r1+0]\njeq %r1, 0, done\ncall 137\njeq %r0, 0, done\nldxw %r1, [%r0+${L.off('tcp_sock', 'snd_cwnd')}]\n${done(1)}` },
  { name: 'the other casts: tcp6_sock, tcp_request_sock, tcp_timewait_sock, udp6_sock views of one lookup',
    src: (L) => `${castChecked()}mov %r1, %r7\ncall 136\njeq %r0, 0, +1\nldxw %r1, [%r0+${L.off('tcp6_sock', 'inet6')}]\n` +
      `mov %r1, %r7\ncall 139\njeq %r0, 0, +1\nldxw %r1, [%r0+${L.off('tcp_request_sock', 'snt_isn')}]\n` +
      `mov %r1, %r7\ncall 138\njeq %r0, 0, +1\nldxw %r1, [%r0+${L.off('tcp_timewait_sock', 'tw_rcv_wnd')}]\n` +
      `mov %r1, %r7\ncall 140\njeq %r0, 0, +1\nldxb %r1, [%r0+${L.off('sock_common', 'skc_state')}]\n${out}` },
  { name: 'bpf_sk_assign (the helper) takes the referenced tcp_sock view',
    src: () => `${castChecked()}mov %r1, %r6\nmov %r2, %r8\nmov %r3, 0\ncall 124\n${out}` },
  { name: 'bpf_skc_to_tcp_sock of a BTF pointer: the second view shares the reference too',
    src: () => `${castChecked()}mov %r1, %r8\ncall 137\njeq %r0, 0, out\nmov %r1, %r0\ncall 86\nmov %r0, 0\nexit\n${out}` },
  { name: 'bpf_rcu_read_lock and unlock around a read',
    src: (L) => `mov %r6, %r1\ncall runtime ${L.kfunc('bpf_rcu_read_lock')}\nmov %r1, %r6\n${kernCtx(L)}ldxdw %r2, [%r9+${L.off('sk_buff', 'sk')}]\n` +
      `call runtime ${L.kfunc('bpf_rcu_read_unlock')}\nmov %r0, 0\nexit` },
];

export const BTF_REJECT: readonly BtfCase[] = [
  { name: 'a load through the cast before its NULL check', src: () => `${lookupCast()}ldxw %r1, [%r0+0]\n${out}`,
    msg: () => "R0 invalid mem access 'ptr_or_null_'" },
  { name: 'pointer arithmetic before the NULL check', src: () => `${lookupCast()}add %r0, 8\n${out}`,
    msg: () => 'R0 pointer arithmetic on ptr_or_null_ prohibited, null-check it first' },
  { name: 'a negative offset', src: () => `${castChecked()}ldxw %r1, [%r8-4]\n${out}`,
    msg: () => 'R8 is ptr_tcp_sock invalid negative access: off=-4' },
  { name: 'a variable offset', src: () => `${castChecked()}ldxw %r2, [%r8+0]\nand %r2, 4\nadd %r8, %r2\nldxw %r1, [%r8+0]\n${out}`,
    msg: () => 'R8 is ptr_tcp_sock invalid variable offset: off=0, var_off=(0x0; 0x4)' },
  { name: 'a store (BPF_ST)', src: () => `${castChecked()}stw [%r8+0], 1\n${out}`, msg: () => 'only read is supported' },
  { name: 'a store (BPF_STX)', src: () => `${castChecked()}stxw [%r8+0], %r7\n${out}`, msg: () => 'only read is supported' },
  { name: 'an atomic add', src: () => `${castChecked()}mov %r1, 1\nlock add32 [%r8+0], %r1\n${out}`, msg: () => 'only read is supported' },
  { name: 'a load past the end of the struct', src: (L) => `${castChecked()}ldxw %r1, [%r8+${L.size('tcp_sock')}]\n${out}`,
    msg: (L) => `access beyond struct tcp_sock at off ${L.size('tcp_sock')} size 4` },
  { name: 'half of a pointer member', src: (L) => `${castChecked()}ldxw %r1, [%r8+${L.off('inet_sock', 'pinet6')}]\n${out}`,
    msg: (L) => `cannot access ptr member pinet6 with moff ${L.off('inet_sock', 'pinet6')} in struct inet_sock with off ${L.off('inet_sock', 'pinet6')} size 4` },
  { name: 'a load wider than its scalar member', src: (L) => `${castChecked()}ldxh %r1, [%r8+${SKC_STATE(L)}]\n${out}`,
    msg: (L) => `access beyond the end of member skc_state (mend:${SKC_STATE(L) + 1}) in struct sock_common with off ${SKC_STATE(L)} size 2` },
  { name: 'a load past the end of an anonymous struct (the kernel names it (anon))', src: (L) => `${castChecked()}ldxdw %r1, [%r8+${SKC_NUM(L)}]\n${out}`,
    msg: (L) => `access beyond struct (anon) at off ${SKC_NUM(L) - L.off('sock_common', 'skc_dport')} size 8` },
  { name: 'use after release: the cast dies with the lookup\'s reference', src: () => `${castChecked()}mov %r1, %r7\ncall 86\nldxw %r1, [%r8+0]\nmov %r0, 0\nexit\n${out}`,
    msg: () => "R8 invalid mem access 'scalar'" },
  { name: 'an untrusted pointer member passed to bpf_sk_release', src: (L) => `${castChecked()}ldxdw %r1, [%r8+${L.off('inet_sock', 'pinet6')}]\ncall 86\n${out}`,
    msg: () => 'R1 type=untrusted_ptr_ expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_' },
  { name: 'bpf_sk_release of a cast that holds no reference', src: () => `${ctxSkCast()}mov %r1, %r8\ncall 86\n${done()}`,
    msg: () => 'R1 must be referenced when passed to release function', code: 'EINVAL' },
  { name: 'the cast is a view: not releasing the lookup leaks it', src: () => `${castChecked()}mov %r0, 0\nexit\n${out}`,
    msg: () => 'Unreleased reference id=2 alloc_insn=10', code: 'EINVAL' },
  { name: 'bpf_skc_to_tcp_sock of an RCU pointer (skb->sk)',
    src: (L) => `mov %r6, %r1\n${kernCtx(L)}ldxdw %r1, [%r9+${L.off('sk_buff', 'sk')}]\njeq %r1, 0, done\ncall 137\n${done()}`,
    msg: () => 'R1 type=rcu_ptr_ expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_' },
  { name: 'bpf_tcp_sock (ARG_PTR_TO_SOCK_COMMON) takes socket pointers only, not BTF ones', src: () => `${castChecked()}mov %r1, %r8\ncall 96\n${out}`,
    msg: () => 'R1 type=ptr_ expected=sock_common, sock, tcp_sock, xdp_sock' },
  { name: 'a request socket is no struct sock for the kfunc', src: (L) => `${lookupCast(139)}jeq %r0, 0, out\nmov %r8, %r0\n${assign(L)}${out}`,
    msg: () => 'kernel function bpf_sk_assign_tcp_reqsk args#1 expected pointer to STRUCT sock but R2 has a pointer to STRUCT tcp_request_sock', code: 'EINVAL' },
  { name: 'bpf_skc_to_tcp_sock of the trusted sk_buff: a BTF pointer, but no socket',
    src: (L) => `mov %r6, %r1\n${kernCtx(L)}mov %r1, %r9\ncall 137\n${done()}`,
    msg: () => 'R1 is of type sk_buff but sock_common is expected' },
  { name: 'the kfunc from XDP', type: XDP, src: (L) => `${castChecked()}${assign(L)}${out}`,
    msg: () => 'calling kernel function bpf_sk_assign_tcp_reqsk is not allowed' },
  { name: 'a kfunc call whose id is no function', src: () => 'call runtime 1\nmov %r0, 0\nexit', msg: () => 'kernel btf_id 1 is not a function', code: 'EINVAL' },
  { name: 'the kfunc with a tcp_sock that holds no reference', src: (L) => `${ctxSkCast()}${assign(L)}${done()}`,
    msg: () => 'R2 must be referenced or trusted', code: 'EINVAL' },
  { name: 'the kfunc with the sock_common of the lookup (not a struct sock)', src: (L) => `${lookupCast()}${assign(L, '%r7')}${out}`,
    msg: () => 'kernel function bpf_sk_assign_tcp_reqsk args#1 expected pointer to STRUCT sock but R2 has a pointer to STRUCT sock_common', code: 'EINVAL' },
  { name: 'the kfunc with the cast before its NULL check', src: (L) => `${lookupCast()}mov %r8, %r0\n${assign(L)}${out}`,
    msg: () => 'Possibly NULL pointer passed to trusted arg1' },
  { name: 'the kfunc with attrs only 16 bytes of which are written (vxo: stack read before written)', ours: true,
    src: (L) => `${castChecked()}${assign(L, '%r8', 20, 16)}${out}`,
    msg: () => 'invalid indirect read from stack R3 off -40+16 size 20', code: 'EINVAL', extra: 'arg#2 arg#3 memory, len pair leads to invalid memory access' },
  { name: 'the kfunc with attrs__sz past the stack', src: (L) => `${castChecked()}${assign(L, '%r8', 48)}${out}`,
    msg: () => 'invalid read from stack R3 off=-40 size=48', code: 'EINVAL', extra: 'arg#2 arg#3 memory, len pair leads to invalid memory access' },
  { name: 'the kfunc with an unbounded attrs__sz',
    src: (L) => `${castChecked()}${attrs()}ldxw %r4, [%r8+${L.off('tcp_sock', 'snd_cwnd')}]\nmov %r2, %r8\nmov %r1, %r6\ncall runtime ${L.kfunc('bpf_sk_assign_tcp_reqsk')}\n${out}`,
    msg: () => "R4 unbounded memory access, use 'var &= const' or 'if (var < const)'", extra: 'arg#2 arg#3 memory, len pair leads to invalid memory access' },
  { name: 'the kfunc with the stack where the context goes', src: (L) => `${castChecked()}${attrs()}mov %r2, %r8\nmov %r1, %r10\ncall runtime ${L.kfunc('bpf_sk_assign_tcp_reqsk')}\n${out}`,
    msg: () => 'arg#0 expected pointer to ctx, but got fp', code: 'EINVAL' },
  { name: 'the kfunc with an RCU pointer (skb->sk)', src: (L) => `mov %r6, %r1\n${kernCtx(L)}ldxdw %r8, [%r9+${L.off('sk_buff', 'sk')}]\njeq %r8, 0, done\n${assign(L)}${done()}`,
    msg: () => 'R2 must be referenced or trusted', code: 'EINVAL' },
  { name: 'bpf_rdonly_cast with a type id that is not a constant', src: (L) => `ldxw %r2, [%r1+0]\ncall runtime ${L.kfunc('bpf_rdonly_cast')}\nmov %r0, 0\nexit`,
    msg: () => 'R2 must be a known constant', code: 'EINVAL' },
  { name: 'a pointer from bpf_rdonly_cast is untrusted: no kfunc takes it',
    src: (L) => `mov %r6, %r1\nmov %r2, ${L.struct('sock')}\ncall runtime ${L.kfunc('bpf_rdonly_cast')}\nmov %r8, %r0\n${assign(L)}mov %r0, 0\nexit`,
    msg: () => 'R2 must be referenced or trusted', code: 'EINVAL' },
  { name: 'the kfunc with the tcp_sock moved off its start (no struct sock there)', src: (L) => `${castChecked()}add %r8, 8\n${assign(L)}${out}`,
    msg: () => 'kernel function bpf_sk_assign_tcp_reqsk args#1 expected pointer to STRUCT sock but R2 has a pointer to STRUCT tcp_sock', code: 'EINVAL' },
  { name: 'the kfunc with the context moved off its start', src: (L) => `${castChecked()}${attrs()}mov %r2, %r8\nmov %r1, %r6\nadd %r1, 8\ncall runtime ${L.kfunc('bpf_sk_assign_tcp_reqsk')}\n${out}`,
    msg: () => 'dereference of modified ctx ptr R1 off=8 disallowed' },
  { name: 'the kfunc without its size argument: attrs is read as a whole struct, then R4 is no scalar',
    src: (L) => `${castChecked()}${attrs(null)}mov %r2, %r8\nmov %r1, %r6\ncall runtime ${L.kfunc('bpf_sk_assign_tcp_reqsk')}\n${out}`,
    msg: () => 'R4 is not a scalar', code: 'EINVAL' },
  { name: 'bpf_cast_to_kern_ctx of the stack', src: (L) => `mov %r1, %r10\ncall runtime ${L.kfunc('bpf_cast_to_kern_ctx')}\nmov %r0, 0\nexit`,
    msg: () => 'arg#0 expected pointer to ctx, but got fp', code: 'EINVAL' },
  { name: 'bpf_rcu_read_unlock without a lock', src: (L) => `call runtime ${L.kfunc('bpf_rcu_read_unlock')}\nmov %r0, 0\nexit`,
    msg: () => 'unmatched rcu read unlock (kernel function bpf_rcu_read_unlock)', code: 'EINVAL' },
  { name: 'LD_ABS inside an RCU read section', src: (L) => `mov %r6, %r1\ncall runtime ${L.kfunc('bpf_rcu_read_lock')}\nldabsw 0\ncall runtime ${L.kfunc('bpf_rcu_read_unlock')}\nmov %r0, 0\nexit`,
    msg: () => 'BPF_LD_[ABS|IND] cannot be used inside bpf_rcu_read_lock-ed region', code: 'EINVAL' },
  { name: 'nested RCU read sections',
    src: (L) => `call runtime ${L.kfunc('bpf_rcu_read_lock')}\ncall runtime ${L.kfunc('bpf_rcu_read_lock')}\ncall runtime ${L.kfunc('bpf_rcu_read_unlock')}\ncall runtime ${L.kfunc('bpf_rcu_read_unlock')}\nmov %r0, 0\nexit`,
    msg: () => 'nested rcu read lock (kernel function bpf_rcu_read_lock)', code: 'EINVAL' },
  { name: 'exit inside an RCU read section', src: (L) => `call runtime ${L.kfunc('bpf_rcu_read_lock')}\nmov %r0, 0\nexit`,
    msg: () => 'BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region', code: 'EINVAL' },
];
