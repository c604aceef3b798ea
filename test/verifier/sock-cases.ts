// Socket pointers in the verifier: lookups, casts, sockmap lookups, loads through struct bpf_sock /
// bpf_tcp_sock, reference tracking, SK_LOOKUP's context and return range. Each case is accepted or
// refused with the kernel's message; test/kernel/sk-lookup-sock-verifier.test.ts checks every one
// against Linux (the same verdict, the message in its log).
import type { VerifierCase } from './cases.ts';

/** A case; the code may be EFAULT too (a refusal the kernel makes after the walk). */
export type SockCase = Omit<VerifierCase, 'code'> & { code?: VerifierCase['code'] | 'EFAULT' };

export const XDP = 6, SCHED_CLS = 3, SK_LOOKUP = 30;
const SOCKMAP = 15, SOCKHASH = 18;
const SOCKMAP_M = { sm: [SOCKMAP, 4, 8, 4, 0] as [number, number, number, number, number] };
const SOCKHASH_M = { sm: [SOCKHASH, 4, 8, 4, 0] as [number, number, number, number, number] };

/** r6 = ctx; a zeroed 12-byte tuple at fp-16..fp-4 (r2 = its address); r3 = 12, r4 = netns, r5 = 0. */
const tuple = (netns = 0): string => `mov %r6, %r1
mov %r2, 0
stxdw [%r10-16], %r2
stxw [%r10-8], %r2
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, ${netns}
mov %r5, 0
`;
/** r0 = lookup helper `id` (84 tcp, 85 udp, 99 skc) on the zero tuple. */
const lookup = (id = 84): string => `${tuple()}mov %r1, %r6\ncall ${id}\n`;
/** The lookup at insn 10 (alloc_insn=10), r7 = its non-NULL result, else exit 0. */
const sk = (id = 84): string => `${lookup(id)}jne %r0, 0, +2\nmov %r0, 0\nexit\nmov %r7, %r0\n`;
const release = (reg = 7): string => `mov %r1, %r${reg}\ncall 86\n`;
/** r0 = bpf_map_lookup_elem(&sm, &(u32)0) (the call at insn 6). */
const mapLookup = `mov %r1, 0
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(sm)
call 1
`;

export const SOCK_ACCEPT: readonly SockCase[] = [
  { name: 'tcp lookup, NULL check, the bpf_sock fields read, release', src: `${sk()}ldxw %r1, [%r7+4]\nldxw %r1, [%r7+0]\nldxw %r1, [%r7+8]\nldxw %r1, [%r7+12]\nldxw %r1, [%r7+16]\nldxw %r1, [%r7+20]\nldxw %r1, [%r7+72]\nldxw %r1, [%r7+76]\n${release()}mov %r0, 2\nexit` },
  { name: 'narrow loads of the address fields, dst_port 2-byte, 1-byte and legacy 4-byte loads',
    src: `${sk(85)}ldxb %r1, [%r7+24]\nldxh %r1, [%r7+26]\nldxb %r1, [%r7+31]\nldxh %r1, [%r7+42]\nldxh %r1, [%r7+48]\nldxb %r1, [%r7+49]\nldxw %r1, [%r7+48]\nldxb %r1, [%r7+55]\nldxh %r1, [%r7+70]\nldxb %r1, [%r7+4]\nldxh %r1, [%r7+44]\nldxb %r1, [%r7+72]\nldxh %r1, [%r7+76]\n${release()}mov %r0, 2\nexit` },
  { name: 'skc lookup: a sock_common whose common fields are readable', src: `${sk(99)}ldxw %r1, [%r7+4]\nldxw %r1, [%r7+44]\nldxw %r1, [%r7+72]\nldxw %r1, [%r7+0]\nldxw %r1, [%r7+24]\n${release()}mov %r0, 2\nexit` },
  { name: 'lookup with the current netns (-1)', src: `${tuple(-1)}mov %r1, %r6\ncall 84\njeq %r0, 0, +2\nmov %r1, %r0\ncall 86\nmov %r0, 2\nexit` },
  { name: 'tc: sk_fullsock and tcp_sock casts keep the reference; tcp_sock fields read; released through sk', type: SCHED_CLS,
    src: `${sk(99)}mov %r1, %r7\ncall 95\njeq %r0, 0, +7\nmov %r1, %r0\ncall 96\njeq %r0, 0, +4\nldxw %r1, [%r0+0]\nldxdw %r1, [%r0+80]\nldxdw %r1, [%r0+88]\nldxw %r1, [%r0+108]\n${release()}mov %r0, 0\nexit` },
  { name: 'tc: released through the tcp_sock view, or through sk when the cast is NULL', type: SCHED_CLS,
    src: `${sk()}mov %r1, %r7\ncall 96\njeq %r0, 0, +3\nmov %r1, %r0\ncall 86\nja +2\n${release()}mov %r0, 0\nexit` },
  { name: 'tc: bpf_get_listener_sock: a socket without a reference', type: SCHED_CLS,
    src: `${sk(99)}mov %r1, %r7\ncall 98\njeq %r0, 0, +1\nldxw %r1, [%r0+72]\n${release()}mov %r0, 0\nexit` },
  { name: 'tc: bpf_sk_assign takes a looked-up socket (no release by it)', type: SCHED_CLS,
    src: `${sk()}mov %r1, %r6\nmov %r2, %r7\nmov %r3, 0\ncall 124\n${release()}mov %r0, 0\nexit` },
  { name: 'sockmap lookup: a socket after the NULL check, released', maps: SOCKMAP_M,
    src: `${mapLookup}jeq %r0, 0, +4\nldxw %r1, [%r0+4]\nldxw %r1, [%r0+48]\nmov %r1, %r0\ncall 86\nmov %r0, 2\nexit` },
  { name: 'sockhash lookup from tc: released', type: SCHED_CLS, maps: SOCKHASH_M,
    src: `${mapLookup}jeq %r0, 0, +2\nmov %r1, %r0\ncall 86\nmov %r0, 0\nexit` },
  { name: 'XDP may update a sockmap with a looked-up socket and delete from it', maps: SOCKMAP_M,
    src: `${sk()}mov %r1, 0\nstxw [%r10-4], %r1\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r7\nmov %r4, 0\nlddw %r1, map_by_fd(sm)\ncall 2\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map_by_fd(sm)\ncall 3\n${release()}mov %r0, 2\nexit` },
  { name: 'SK_LOOKUP: context fields, narrow loads, remote_port and its padding', type: SK_LOOKUP,
    src: 'ldxw %r2, [%r1+8]\nldxb %r2, [%r1+12]\nldxh %r2, [%r1+18]\nldxw %r2, [%r1+20]\nldxb %r2, [%r1+35]\nldxw %r2, [%r1+36]\nldxh %r2, [%r1+36]\nldxb %r2, [%r1+37]\nldxh %r2, [%r1+38]\nldxb %r2, [%r1+39]\nldxw %r2, [%r1+40]\nldxw %r2, [%r1+56]\nldxh %r2, [%r1+62]\nldxw %r2, [%r1+64]\nmov %r0, 1\nexit' },
  { name: 'SK_LOOKUP: ctx->sk is a nullable socket without a reference', type: SK_LOOKUP,
    src: 'ldxdw %r2, [%r1+0]\njeq %r2, 0, +2\nldxw %r3, [%r2+4]\nldxw %r3, [%r2+48]\nmov %r0, 1\nexit' },
  { name: 'SK_LOOKUP: bpf_sk_assign of ctx->sk unchecked, and of NULL', type: SK_LOOKUP,
    src: 'mov %r6, %r1\nldxdw %r2, [%r1+0]\nmov %r3, 1\ncall 124\nmov %r1, %r6\nmov %r2, 0\nmov %r3, 0\ncall 124\nmov %r0, 1\nexit' },
  { name: 'SK_LOOKUP: the dispatcher pattern (sockmap lookup, assign, release)', type: SK_LOOKUP, maps: SOCKMAP_M,
    src: `mov %r6, %r1\n${mapLookup}jeq %r0, 0, +9\nmov %r7, %r0\nmov %r1, %r6\nmov %r2, %r7\nmov %r3, 0\ncall 124\nmov %r1, %r7\ncall 86\nmov %r0, 1\nexit\nmov %r0, 0\nexit` },
  { name: 'SK_LOOKUP: a return value proven in [0, 1]', type: SK_LOOKUP, src: 'ldxw %r0, [%r1+60]\nand %r0, 1\nexit' },
  { name: 'ref tracking: a copy of the socket compared with a constant other than 0 stays a socket', src: `${sk()}mov %r6, %r7\njeq %r6, 1234, +0\nldxw %r1, [%r6+4]\n${release(6)}mov %r0, 2\nexit` },
  { name: 'ref tracking: released in a subprogram', src: `${sk()}mov %r1, %r7\ncall sub\nmov %r0, 2\nexit\nsub:\ncall 86\nmov %r0, 0\nexit` },
  { name: 'ref tracking: acquired in a subprogram, released by the caller', src: `mov %r6, %r1\ncall sub\njeq %r0, 0, +2\nmov %r1, %r0\ncall 86\nmov %r0, 2\nexit\nsub:\n${lookup()}exit` },
  { name: 'ref tracking: the socket spilled to the stack and filled back', src: `${sk()}stxdw [%r10-24], %r7\nldxdw %r1, [%r10-24]\ncall 86\nmov %r0, 2\nexit` },
];

export const SOCK_REJECT: readonly SockCase[] = [
  { name: 'store into a socket', src: `${sk()}mov %r1, 0\nstxw [%r7+16], %r1\n${release()}mov %r0, 2\nexit`, msg: 'R7 cannot write into sock' },
  { name: 'load past struct bpf_sock', src: `${sk()}ldxw %r1, [%r7+80]\n${release()}mov %r0, 2\nexit`, msg: 'R7 invalid sock access off=80 size=4' },
  { name: '8-byte load from a socket', src: `${sk()}ldxdw %r1, [%r7+0]\n${release()}mov %r0, 2\nexit`, msg: 'R7 invalid sock access off=0 size=8' },
  { name: 'narrow load of mark', src: `${sk()}ldxh %r1, [%r7+16]\n${release()}mov %r0, 2\nexit`, msg: 'R7 invalid sock access off=16 size=2' },
  { name: 'the padding after dst_port', src: `${sk()}ldxh %r1, [%r7+50]\n${release()}mov %r0, 2\nexit`, msg: 'R7 invalid sock access off=50 size=2' },
  { name: 'narrow load inside family', src: `${sk()}ldxb %r1, [%r7+5]\n${release()}mov %r0, 2\nexit`, msg: 'R7 invalid sock access off=5 size=1' },
  { name: 'type of a sock_common', src: `${sk(99)}ldxw %r1, [%r7+8]\n${release()}mov %r0, 2\nexit`, msg: 'R7 invalid sock_common access off=8 size=4' },
  { name: 'arithmetic on a socket', src: `${sk()}add %r7, 4\n${release()}mov %r0, 2\nexit`, msg: 'R7 pointer arithmetic on sock prohibited' },
  { name: 'arithmetic before the NULL check', src: `${lookup()}add %r0, 4\nmov %r0, 2\nexit`, msg: 'R0 pointer arithmetic on sock_or_null prohibited, null-check it first' },
  { name: 'use after release', src: `${sk()}${release()}ldxw %r1, [%r7+4]\nmov %r0, 2\nexit`, msg: "R7 invalid mem access 'scalar'" },
  { name: 'release twice', src: `${sk()}${release()}${release()}mov %r0, 2\nexit`, msg: 'R1 type=scalar expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_' },
  { name: 'release before the NULL check', src: `${lookup()}mov %r1, %r0\ncall 86\nmov %r0, 2\nexit`,
    msg: 'R1 type=sock_or_null expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_' },
  { name: 'skc lookup never released', src: `${sk(99)}mov %r0, 2\nexit`, msg: 'Unreleased reference id=2 alloc_insn=10', code: 'EINVAL' },
  { name: 'tc: a cast acquires nothing: sk must still be released', type: SCHED_CLS,
    src: `${sk()}mov %r1, %r7\ncall 96\nmov %r0, 0\nexit`, msg: 'Unreleased reference id=2 alloc_insn=10', code: 'EINVAL' },
  { name: 'tc: tcp_sock unchecked', type: SCHED_CLS, src: `${sk()}mov %r1, %r7\ncall 96\nldxw %r1, [%r0+0]\n${release()}mov %r0, 0\nexit`,
    msg: "R0 invalid mem access 'tcp_sock_or_null'" },
  { name: 'tc: past struct bpf_tcp_sock', type: SCHED_CLS, src: `${sk()}mov %r1, %r7\ncall 96\njeq %r0, 0, +1\nldxw %r1, [%r0+112]\n${release()}mov %r0, 0\nexit`,
    msg: 'R0 invalid tcp_sock access off=112 size=4' },
  { name: 'tc: 4-byte load of bytes_received', type: SCHED_CLS, src: `${sk()}mov %r1, %r7\ncall 96\njeq %r0, 0, +1\nldxw %r1, [%r0+80]\n${release()}mov %r0, 0\nexit`,
    msg: 'R0 invalid tcp_sock access off=80 size=4' },
  { name: 'tc: the tcp_sock view dies with the release of sk', type: SCHED_CLS,
    src: `${sk()}mov %r1, %r7\ncall 96\njeq %r0, 0, +5\nmov %r8, %r0\n${release()}ldxw %r1, [%r8+0]\nja +2\n${release()}mov %r0, 0\nexit`,
    msg: "R8 invalid mem access 'scalar'" },
  { name: 'tc: the upper half of bytes_acked: accepted by the walk, refused by the rewrite', type: SCHED_CLS,
    src: `${sk()}mov %r1, %r7\ncall 96\njeq %r0, 0, +1\nldxw %r1, [%r0+92]\n${release()}mov %r0, 0\nexit`,
    msg: 'verifier bug: error during ctx access conversion (0)', code: 'EFAULT' },
  { name: 'tc: the listener from bpf_get_listener_sock holds no reference', type: SCHED_CLS,
    src: `${sk()}mov %r1, %r7\ncall 98\njeq %r0, 0, +2\nmov %r1, %r0\ncall 86\n${release()}mov %r0, 0\nexit`,
    msg: 'R1 must be referenced when passed to release function', code: 'EINVAL' },
  { name: 'XDP may not call bpf_sk_fullsock', src: `${sk()}mov %r1, %r7\ncall 95\n${release()}mov %r0, 2\nexit`,
    msg: 'program of this type cannot use helper bpf_sk_fullsock#95', code: 'EINVAL' },
  { name: 'sockmap value dereferenced before the NULL check', maps: SOCKMAP_M, src: `${mapLookup}ldxw %r1, [%r0+4]\nmov %r0, 2\nexit`,
    msg: "R0 invalid mem access 'sock_or_null'" },
  { name: 'sockmap lookup never released', maps: SOCKMAP_M, src: `${mapLookup}mov %r0, 2\nexit`, msg: 'Unreleased reference id=2 alloc_insn=6', code: 'EINVAL' },
  { name: 'sockmap socket written', maps: SOCKMAP_M, src: `${mapLookup}jeq %r0, 0, +4\nmov %r1, 0\nstxw [%r0+4], %r1\nmov %r1, %r0\ncall 86\nmov %r0, 2\nexit`,
    msg: 'R0 cannot write into sock' },
  { name: 'a sockmap update takes a socket, not bytes', maps: SOCKMAP_M,
    src: 'mov %r1, 0\nstxdw [%r10-8], %r1\nmov %r2, %r10\nadd %r2, -8\nmov %r3, %r2\nmov %r4, 0\nlddw %r1, map_by_fd(sm)\ncall 2\nmov %r0, 2\nexit',
    msg: 'R3 type=fp expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_' },
  { name: 'bpf_redirect_map on a sockmap', maps: SOCKMAP_M,
    src: 'lddw %r1, map_by_fd(sm)\nmov %r2, 0\nmov %r3, 0\ncall 51\nexit', msg: 'cannot pass map_type 15 into func bpf_redirect_map#51', code: 'EINVAL' },
  { name: 'SK_LOOKUP: ctx->sk holds no reference to release', type: SK_LOOKUP,
    src: 'ldxdw %r1, [%r1+0]\njeq %r1, 0, +1\ncall 86\nmov %r0, 1\nexit', msg: 'R1 must be referenced when passed to release function', code: 'EINVAL' },
  { name: 'SK_LOOKUP: returns 2', type: SK_LOOKUP, src: 'mov %r0, 2\nexit',
    msg: 'At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]', code: 'EINVAL' },
  { name: 'SK_LOOKUP: returns a context field', type: SK_LOOKUP, src: 'ldxw %r0, [%r1+60]\nexit',
    msg: 'At program exit the register R0 has smin=0 smax=4294967295 should have been in [0, 1]', code: 'EINVAL' },
  { name: 'SK_LOOKUP: returns an unknown value', type: SK_LOOKUP, src: 'call 7\nexit',
    msg: 'At program exit the register R0 has unknown scalar value should have been in [0, 1]', code: 'EINVAL' },
  { name: 'SK_LOOKUP: returns the context', type: SK_LOOKUP, src: 'mov %r0, %r1\nexit',
    msg: 'At program exit the register R0 is not a known value (ctx)', code: 'EINVAL' },
  { name: 'SK_LOOKUP: context write', type: SK_LOOKUP, src: 'mov %r2, 0\nstxw [%r1+8], %r2\nmov %r0, 1\nexit', msg: 'invalid bpf_context access off=8 size=4' },
  { name: 'SK_LOOKUP: 4-byte load of sk', type: SK_LOOKUP, src: 'ldxw %r2, [%r1+0]\nmov %r0, 1\nexit', msg: 'invalid bpf_context access off=0 size=4' },
  { name: 'SK_LOOKUP: 4-byte load of the remote_port padding', type: SK_LOOKUP, src: 'ldxw %r2, [%r1+38]\nmov %r0, 1\nexit', msg: 'invalid bpf_context access off=38 size=4' },
  { name: 'SK_LOOKUP: 8-byte load of family', type: SK_LOOKUP, src: 'ldxdw %r2, [%r1+8]\nmov %r0, 1\nexit', msg: 'invalid bpf_context access off=8 size=8' },
  { name: 'SK_LOOKUP: past the context', type: SK_LOOKUP, src: 'ldxw %r2, [%r1+68]\nmov %r0, 1\nexit', msg: 'invalid bpf_context access off=68 size=4' },
  { name: 'SK_LOOKUP: ctx->sk dereferenced unchecked', type: SK_LOOKUP, src: 'ldxdw %r2, [%r1+0]\nldxw %r3, [%r2+4]\nmov %r0, 1\nexit',
    msg: "R2 invalid mem access 'sock_or_null'" },
  { name: 'SK_LOOKUP: no socket lookups', type: SK_LOOKUP, src: `${lookup()}mov %r0, 1\nexit`,
    msg: 'program of this type cannot use helper bpf_sk_lookup_tcp#84', code: 'EINVAL' },
  { name: 'SK_LOOKUP: bpf_sk_assign wants a socket', type: SK_LOOKUP, src: 'mov %r2, %r10\nmov %r3, 0\ncall 124\nmov %r0, 1\nexit',
    msg: 'R2 type=fp expected=sock' },
  { name: 'ref tracking: bpf_sk_release(NULL)', src: `${lookup()}jne %r0, 0, +3\nmov %r1, %r0\ncall 86\nexit\nmov %r1, %r0\ncall 86\nmov %r0, 2\nexit`,
    msg: 'R1 type=scalar expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_' },
  { name: 'ref tracking: leaked by a subprogram', src: `mov %r6, %r1\ncall sub\nmov %r0, 2\nexit\nsub:\n${lookup()}mov %r0, 0\nexit`,
    msg: 'Unreleased reference id=2 alloc_insn=14', code: 'EINVAL' },
  { name: 'ref tracking: the spilled copy dies with the release', src: `${sk()}stxdw [%r10-24], %r7\n${release()}ldxdw %r1, [%r10-24]\nldxw %r0, [%r1+4]\nmov %r0, 2\nexit`,
    msg: "R1 invalid mem access 'scalar'" },
  { name: 'ref tracking: LD_ABS while holding a socket', type: SCHED_CLS, src: `${sk()}ldabsb 0\n${release()}mov %r0, 0\nexit`,
    msg: 'Unreleased reference id=2 alloc_insn=10', code: 'EINVAL' },
];
