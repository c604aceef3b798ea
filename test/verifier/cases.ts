// Hand-written programs for the verifier's focused tests: each is accepted, or rejected with the
// kernel's message (checked against Linux 6.18's verifier where a kernel was at hand; `ours` marks
// the few where vxo is deliberately stricter than a privileged kernel).
// Maps: name -> [type, key_size, value_size, max_entries, flags].

export interface VerifierCase {
  name: string;
  src: string;
  maps?: Record<string, [number, number, number, number, number]>;
  /** Program type, XDP unless given. */
  type?: number;
  /** The rejection's message (VerifierError.message); absent for programs that must be accepted. */
  msg?: string;
  code?: 'EACCES' | 'EINVAL' | 'E2BIG';
  /** vxo rejects what a privileged 6.18 kernel accepts (stack written before read). */
  ours?: boolean;
  maxProcessed?: number;
}

const HASH = 1, ARRAY = 2, DEVMAP = 14;
const HASH_M = { m: [HASH, 4, 8, 16, 0] as [number, number, number, number, number] };
const PKT = `ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
`;
/** r0 = bpf_map_lookup_elem(&m, &(u32)0). */
const LOOKUP = `mov %r1, 0
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
`;
/** r0 = bpf_sk_lookup_tcp(ctx, zeroed 12-byte tuple at fp-40, 12, 0, 0). */
const SK_LOOKUP = `mov %r2, 0
stxdw [%r10-8], %r2
stxdw [%r10-16], %r2
stxdw [%r10-24], %r2
stxdw [%r10-32], %r2
stxdw [%r10-40], %r2
mov %r2, %r10
add %r2, -40
mov %r3, 12
mov %r4, 0
mov %r5, 0
call 84
`;

export const REJECT_CASES: readonly VerifierCase[] = [
  // ---- packet ----
  { name: 'packet read past the checked range', src: `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, +1\nldxb %r0, [%r2+14]\nmov %r0, 2\nexit`,
    msg: 'invalid access to packet, off=14 size=1, R2(id=0,off=14,r=14)' },
  { name: 'packet read before data', src: `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, +1\nldxb %r0, [%r2-1]\nmov %r0, 2\nexit`,
    msg: 'invalid access to packet, off=-1 size=1, R2(id=0,off=-1,r=14)' },
  { name: 'packet read with no check at all', src: `${PKT}ldxb %r0, [%r2+0]\nexit`, msg: 'invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)' },
  { name: 'packet pointer plus an unbounded scalar', src: `${PKT}call 5\nldxw %r2, [%r1+0]\nadd %r2, %r0\nmov %r0, 2\nexit`, msg: 'R1 !read_ok' },
  { name: 'packet pointer plus a 64-bit unknown', src: `mov %r6, %r1\ncall 5\nldxw %r2, [%r6+0]\nadd %r2, %r0\nmov %r0, 2\nexit`,
    msg: 'math between pkt pointer and register with unbounded min value is not allowed', code: 'EINVAL' },
  { name: 'variable packet offset read without a new check', src: `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, +4\nldxb %r5, [%r2+0]\nadd %r2, %r5\nldxb %r0, [%r2+0]\nexit\nmov %r0, 2\nexit`,
    msg: 'invalid access to packet, off=0 size=1, R2(id=1,off=0,r=0)' },
  { name: 'packet offset that may be negative', src: `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, +7\nldxbsx %r5, [%r2+0]\nadd %r2, %r5\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, +2\nldxb %r0, [%r2+0]\nexit\nmov %r0, 2\nexit`,
    msg: 'R2 min value is negative, either use unsigned index or do a if (index >=0) check.' },
  { name: 'packet end dereferenced', src: `ldxw %r3, [%r1+4]\nldxb %r0, [%r3+0]\nexit`, msg: "R3 invalid mem access 'pkt_end'" },
  { name: 'arithmetic on packet end', src: `ldxw %r3, [%r1+4]\nadd %r3, -1\nmov %r0, 2\nexit`, msg: 'R3 pointer arithmetic on pkt_end prohibited' },
  { name: 'atomic add into the packet', src: `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, +2\nmov %r5, 1\nlock add32 [%r2+0], %r5\nmov %r0, 0\nexit`,
    msg: 'BPF_ATOMIC stores into R2 pkt is not allowed' },
  { name: 'packet pointer used after bpf_xdp_adjust_head', src: `mov %r6, %r1\n${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, +5\nmov %r7, %r2\nmov %r1, %r6\nmov %r2, 0\ncall 44\nldxb %r0, [%r7+0]\nmov %r0, 2\nexit`,
    msg: "R7 invalid mem access 'scalar'" },

  // ---- map values ----
  { name: 'map value read past value_size', maps: HASH_M, src: `${LOOKUP}jeq %r0, 0, +1\nldxdw %r0, [%r0+8]\nmov %r0, 0\nexit`,
    msg: 'invalid access to map value, value_size=8 off=8 size=8' },
  { name: 'map value used without a NULL check', maps: HASH_M, src: `${LOOKUP}ldxdw %r0, [%r0+0]\nexit`, msg: "R0 invalid mem access 'map_value_or_null'" },
  { name: 'NULL check of one lookup does not cover another', maps: HASH_M, src: `${LOOKUP}mov %r6, %r0\n${LOOKUP}jeq %r0, 0, +1\nldxdw %r0, [%r6+0]\nmov %r0, 0\nexit`,
    msg: "R6 invalid mem access 'map_value_or_null'" },
  { name: 'map value variable offset past the end', maps: { m: [HASH, 4, 16, 4, 0] }, src: `${LOOKUP}jeq %r0, 0, +5\nldxdw %r1, [%r0+0]\nand %r1, 15\nadd %r0, %r1\nldxdw %r0, [%r0+0]\nexit\nmov %r0, 0\nexit`,
    msg: 'invalid access to map value, value_size=16 off=15 size=8' },
  { name: 'map value variable offset without bounds', maps: { m: [HASH, 4, 16, 4, 0] }, src: `${LOOKUP}jeq %r0, 0, +4\nldxw %r1, [%r0+0]\nadd %r0, %r1\nldxb %r0, [%r0+0]\nexit\nmov %r0, 0\nexit`,
    msg: 'R0 unbounded memory access, make sure to bounds check any such access' },
  { name: 'map value offset that may be negative', maps: { m: [HASH, 4, 16, 4, 0] }, src: `${LOOKUP}jeq %r0, 0, +4\nldxbsx %r1, [%r0+0]\nadd %r0, %r1\nldxb %r0, [%r0+0]\nexit\nmov %r0, 0\nexit`,
    msg: 'R0 min value is negative, either use unsigned index or do a if (index >=0) check.' },
  { name: 'write into a read-only map', maps: { m: [ARRAY, 4, 8, 1, 0x80] }, src: `${LOOKUP}jeq %r0, 0, +1\nstdw [%r0+0], 1\nmov %r0, 0\nexit`,
    msg: 'write into map forbidden, value_size=8 off=0 size=8' },
  { name: 'arithmetic on a nullable map value', maps: HASH_M, src: `${LOOKUP}add %r0, 8\nmov %r0, 0\nexit`,
    msg: 'R0 pointer arithmetic on map_value_or_null prohibited, null-check it first' },

  // ---- stack ----
  { name: 'stack write below the frame', src: 'mov %r1, 0\nstxdw [%r10-520], %r1\nmov %r0, 0\nexit', msg: 'invalid write to stack R10 off=-520 size=8' },
  { name: 'stack read above the frame', src: 'ldxdw %r0, [%r10+0]\nexit', msg: 'invalid read from stack R10 off=0 size=8' },
  { name: 'stack read before any write', src: 'ldxdw %r0, [%r10-8]\nexit', msg: 'invalid read from stack off -8+0 size 8', ours: true },
  { name: 'misaligned stack store', src: 'mov %r1, 0\nstxdw [%r10-4], %r1\nmov %r0, 0\nexit', msg: 'misaligned stack access off 0+0+-4 size 8' },
  { name: 'half of a spilled pointer read back', src: 'stxdw [%r10-8], %r1\nldxw %r0, [%r10-8]\nexit', msg: 'invalid size of register fill' },
  { name: 'pointer spilled in four bytes', src: 'stxw [%r10-8], %r1\nmov %r0, 0\nexit', msg: 'invalid size of register spill' },
  { name: 'variable-offset stack write past the frame', src: 'ldxw %r2, [%r1+12]\nand %r2, 15\nmov %r3, %r10\nadd %r3, -8\nadd %r3, %r2\nstb [%r3+0], 1\nmov %r0, 0\nexit',
    msg: 'invalid variable-offset write to stack R3 var_off=(0x0; 0xf) off=-8 size=1' },

  // ---- context ----
  { name: 'context read past xdp_md', src: 'ldxw %r0, [%r1+24]\nexit', msg: 'invalid bpf_context access off=24 size=4' },
  { name: 'context write', src: 'mov %r2, 1\nstxw [%r1+12], %r2\nmov %r0, 0\nexit', msg: 'invalid bpf_context access off=12 size=4' },
  { name: 'narrow context read', src: 'ldxb %r0, [%r1+12]\nexit', msg: 'invalid bpf_context access off=12 size=1' },
  { name: 'modified context pointer dereferenced', src: 'add %r1, 4\nldxw %r0, [%r1+0]\nexit', msg: 'dereference of modified ctx ptr R1 off=4 disallowed' },

  // ---- registers ----
  { name: 'uninitialised register read', src: 'mov %r1, %r2\nmov %r0, 0\nexit', msg: 'R2 !read_ok' },
  { name: 'exit without r0', src: 'exit', msg: 'R0 !read_ok' },
  { name: 'scalar dereferenced', src: 'mov %r1, 5\nldxdw %r0, [%r1+0]\nexit', msg: "R1 invalid mem access 'scalar'" },
  { name: 'write to the frame pointer', src: 'mov %r10, 0\nmov %r0, 0\nexit', msg: 'frame pointer is read only', code: 'EINVAL' },

  // ---- pointer arithmetic ----
  { name: 'arithmetic on a map pointer', maps: HASH_M, src: 'lddw %r1, map_by_fd(m)\nadd %r1, 8\nmov %r0, 0\nexit', msg: 'R1 pointer arithmetic on map_ptr prohibited' },
  { name: '32-bit arithmetic on a pointer', src: 'mov %r2, %r10\nadd32 %r2, -8\nmov %r0, 0\nexit', msg: 'R2 32-bit pointer arithmetic prohibited' },
  { name: 'bitwise or on a pointer', src: 'mov %r2, %r10\nor %r2, 8\nmov %r0, 0\nexit', msg: 'R2 bitwise operator |= on pointer prohibited' },
  { name: 'multiplying a pointer', src: 'mov %r2, %r10\nmul %r2, 2\nmov %r0, 0\nexit', msg: 'R2 pointer arithmetic with *= operator prohibited' },
  { name: 'scalar minus pointer', src: 'ldxw %r2, [%r1+0]\nmov %r3, 5\nsub %r3, %r2\nmov %r0, 0\nexit', msg: 'R3 tried to subtract pointer from scalar' },
  { name: 'pointer plus pointer', src: 'mov %r2, %r10\nadd %r2, %r1\nmov %r0, 0\nexit', msg: 'R2 pointer += pointer prohibited' },

  // ---- helpers ----
  { name: 'unknown helper', src: 'call 9999\nmov %r0, 0\nexit', msg: 'invalid func unknown#9999', code: 'EINVAL' },
  { name: 'helper not available to XDP', src: 'mov %r2, 0\ncall 40\nmov %r0, 0\nexit', msg: 'program of this type cannot use helper bpf_csum_update#40', code: 'EINVAL' },
  { name: 'map key never written', maps: HASH_M, src: 'mov %r2, %r10\nadd %r2, -4\nlddw %r1, map_by_fd(m)\ncall 1\nmov %r0, 0\nexit',
    msg: 'invalid indirect read from stack R2 off -4+0 size 4', ours: true },
  { name: 'map key partly outside the stack', maps: HASH_M, src: 'mov %r2, %r10\nadd %r2, -2\nlddw %r1, map_by_fd(m)\ncall 1\nmov %r0, 0\nexit',
    msg: 'invalid read from stack R2 off=-2 size=4' },
  { name: 'scalar where a map is expected', src: 'mov %r1, 0\nmov %r2, %r10\ncall 1\nmov %r0, 0\nexit', msg: 'R1 type=scalar expected=map_ptr' },
  { name: 'zero-sized helper read', src: 'mov %r1, %r10\nadd %r1, -8\nstdw [%r10-8], 0\nmov %r2, 0\ncall 6\nmov %r0, 0\nexit',
    msg: 'R2 invalid zero-sized read: u64=[0,0]' },
  { name: 'helper size that may be negative', src: 'mov %r6, %r1\ncall 7\nmov %r2, %r0\nlsh %r2, 32\narsh %r2, 32\nmov %r1, %r10\nadd %r1, -8\nstdw [%r10-8], 0\ncall 6\nmov %r0, 0\nexit',
    msg: "R2 min value is negative, either use unsigned or 'var &= const'" },
  { name: 'bpf_redirect_map on an array', maps: { m: [ARRAY, 4, 8, 4, 0] }, src: 'lddw %r1, map_by_fd(m)\nmov %r2, 0\nmov %r3, 0\ncall 51\nexit',
    msg: 'cannot pass map_type 2 into func bpf_redirect_map#51', code: 'EINVAL' },
  { name: 'map update on a device map', maps: { m: [DEVMAP, 4, 4, 4, 0] }, src: `mov %r1, 0\nstxw [%r10-4], %r1\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r2\nlddw %r1, map_by_fd(m)\nmov %r4, 0\ncall 2\nmov %r0, 0\nexit`,
    msg: 'write into map forbidden' },
  { name: 'stack pointer where the context is expected', src: 'mov %r1, %r10\nmov %r2, 0\ncall 44\nmov %r0, 0\nexit', msg: 'R1 type=fp expected=ctx' },

  // ---- references ----
  { name: 'socket never released', src: `mov %r6, %r1\n${SK_LOOKUP}mov %r0, 2\nexit`, msg: 'Unreleased reference id=2 alloc_insn=12', code: 'EINVAL' },
  { name: 'socket released only on one path', src: `mov %r6, %r1\n${SK_LOOKUP}jeq %r0, 0, +3\nmov %r7, %r0\ncall 7\njeq %r0, 0, +1\nmov %r1, %r7\ncall 86\nmov %r0, 2\nexit`,
    msg: 'R1 !read_ok' },
  { name: 'socket leaked on the path that skips the release', src: `mov %r6, %r1\n${SK_LOOKUP}jeq %r0, 0, +6\nmov %r7, %r0\ncall 7\njeq %r0, 0, +2\nmov %r1, %r7\ncall 86\nmov %r0, 2\nexit`,
    msg: 'Unreleased reference id=2 alloc_insn=12', code: 'EINVAL' },
  { name: 'nullable socket dereferenced', src: `mov %r6, %r1\n${SK_LOOKUP}ldxw %r1, [%r0+0]\nmov %r0, 2\nexit`, msg: "R0 invalid mem access 'sock_or_null'" },
  { name: 'release of something never acquired', src: 'mov %r1, %r10\ncall 86\nmov %r0, 2\nexit',
    msg: 'R1 type=fp expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_' },

  // ---- control flow ----
  { name: 'unreachable instruction', src: 'mov %r0, 0\nexit\nmov %r0, 1\nexit', msg: 'unreachable insn 2', code: 'EINVAL' },
  { name: 'jump out of the program', src: 'ja +5\nexit', msg: 'jump out of range from insn 0 to 6', code: 'EINVAL' },
  { name: 'jump into the middle of ld_imm64', src: 'mov %r0, 0\njeq %r0, 0, +1\nlddw %r0, 5\nexit', msg: 'jump into the middle of ldimm64 insn 2', code: 'EINVAL' },
  { name: 'program falls off its end', src: 'mov %r0, 0\njeq %r0, 0, +1\nexit\nmov %r0, 1', msg: 'last insn is not an exit or jmp', code: 'EINVAL' },
  { name: 'infinite loop', src: 'mov %r0, 0\nl: add %r0, 0\njeq %r0, 0, l\nexit', msg: 'infinite loop detected at insn 1', code: 'EINVAL' },
  { name: 'loop that never ends within the budget', src: 'mov %r1, 0\nl: add %r1, 1\njne %r1, 2000000, l\nmov %r0, 0\nexit', maxProcessed: 20000,
    msg: 'BPF program is too large. Processed 20001 insn', code: 'E2BIG' },

  // ---- bpf-to-bpf calls ----
  { name: 'call stack too deep', src: 'call local f1\nexit\nf1:\ncall local f2\nexit\nf2:\ncall local f3\nexit\nf3:\ncall local f4\nexit\nf4:\ncall local f5\nexit\nf5:\ncall local f6\nexit\nf6:\ncall local f7\nexit\nf7:\ncall local f8\nexit\nf8:\nmov %r0, 0\nexit',
    msg: 'the call stack of 9 frames is too deep' },
  { name: 'combined stack too large', src: 'stdw [%r10-512], 0\ncall local f1\nmov %r0, 0\nexit\nf1:\nstdw [%r10-16], 0\nmov %r0, 0\nexit',
    msg: 'combined stack size of 2 calls is 528. Too large' },
  { name: 'callee returns its stack', src: 'call local f1\nmov %r0, 0\nexit\nf1:\nmov %r0, %r10\nexit', msg: 'cannot return stack pointer to the caller', code: 'EINVAL' },
  { name: 'callee stores its stack pointer in the caller frame', src: 'stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\ncall local f1\nmov %r0, 0\nexit\nf1:\nmov %r2, %r10\nadd %r2, -8\nstxdw [%r1+0], %r2\nmov %r0, 0\nexit',
    msg: 'cannot spill pointers to stack into stack frame of the caller' },
  { name: 'a value a callee writes into the caller frame on one path only is checked on both', src: `mov %r6, %r1
ldxw %r2, [%r6+0]\nldxw %r3, [%r6+4]\nmov %r4, %r2\nadd %r4, 16\njgt %r4, %r3, out
stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r7, %r2\ncall local f
ldxdw %r5, [%r10-8]\nadd %r7, %r5\nldxb %r0, [%r7+0]\nmov %r0, 2\nexit
out:\nmov %r0, 1\nexit
f:\nmov %r6, %r1\ncall 7\nmov %r3, 100\njeq %r0, 0, join
mov %r3, 0\nmov %r4, 1\njeq %r4, 5, join\nmov %r4, 2\njeq %r4, 5, join\nmov %r4, 3\nmov %r4, 4\nmov %r4, 5\nmov %r4, 6
join:\nstxdw [%r6+0], %r3\nmov %r0, 0\nexit`,
    msg: 'invalid access to packet, off=100 size=1, R7(id=0,off=100,r=16)' },
  { name: 'one load through the context and the stack', src: 'mov %r6, %r1\nstdw [%r10-8], 0\ncall 7\nmov %r1, %r6\njeq %r0, 0, +2\nmov %r1, %r10\nadd %r1, -8\nldxw %r0, [%r1+0]\nmov %r0, 0\nexit',
    msg: 'same insn cannot be used with different pointers' },
];

export const ACCEPT_CASES: readonly VerifierCase[] = [
  { name: 'bounds check then read', src: `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, +1\nldxb %r0, [%r2+13]\nmov %r0, 2\nexit` },
  { name: 'bounds check in the other operand order (data_end >= ptr)', src: `${PKT}mov %r4, %r2\nadd %r4, 14\njge %r3, %r4, +2\nmov %r0, 1\nexit\nldxh %r0, [%r2+12]\nmov %r0, 2\nexit` },
  { name: 'bounds check with < (range one past)', src: `${PKT}mov %r4, %r2\nadd %r4, 14\njlt %r4, %r3, +2\nmov %r0, 1\nexit\nldxb %r0, [%r2+14]\nmov %r0, 2\nexit` },
  { name: 'metadata bounded by data', src: `ldxw %r2, [%r1+8]\nldxw %r3, [%r1+0]\nmov %r4, %r2\nadd %r4, 4\njgt %r4, %r3, +1\nldxw %r0, [%r2+0]\nmov %r0, 2\nexit` },
  { name: 'range proven through a spilled copy', src: `${PKT}stxdw [%r10-8], %r2\nmov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, +2\nldxdw %r5, [%r10-8]\nldxb %r0, [%r5+13]\nmov %r0, 2\nexit` },
  { name: 'NULL check converts every copy', maps: HASH_M, src: `${LOOKUP}mov %r6, %r0\njeq %r0, 0, +1\nldxdw %r0, [%r6+0]\nmov %r0, 0\nexit` },
  { name: 'constant key into an array is never NULL', maps: { m: [ARRAY, 4, 8, 4, 0] }, src: `${LOOKUP}ldxdw %r0, [%r0+0]\nexit` },
  { name: 'bounded loop', src: 'mov %r0, 0\nmov %r1, 0\nl: add %r0, %r1\nadd %r1, 1\njlt %r1, 100, l\nexit' },
  { name: 'masked index into a map value', maps: { m: [HASH, 4, 64, 4, 0] }, src: `${LOOKUP}jeq %r0, 0, +5\nldxdw %r1, [%r0+0]\nand %r1, 56\nadd %r0, %r1\nldxdw %r0, [%r0+0]\nexit\nmov %r0, 0\nexit` },
  { name: 'variable-offset stack read of written bytes', src: 'stdw [%r10-16], 0\nstdw [%r10-8], 0\nldxw %r2, [%r1+12]\nand %r2, 7\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\nldxb %r0, [%r3+0]\nexit' },
  { name: 'socket looked up and released', src: `mov %r6, %r1\n${SK_LOOKUP}jeq %r0, 0, +2\nmov %r1, %r0\ncall 86\nmov %r0, 2\nexit` },
  { name: 'subprogram reads through packet and stack pointers', src: `${PKT}mov %r4, %r2\nadd %r4, 8\njgt %r4, %r3, +6\nstdw [%r10-8], 7\nmov %r1, %r2\nmov %r2, %r10\nadd %r2, -8\ncall local f\nexit\nmov %r0, 2\nexit\nf:\nldxdw %r0, [%r1+0]\nldxdw %r3, [%r2+0]\nadd %r0, %r3\nexit` },
  { name: 'pointer leak into a map (privileged)', maps: HASH_M, src: `${LOOKUP}jeq %r0, 0, +1\nstxdw [%r0+0], %r10\nmov %r0, 0\nexit` },
  { name: 'packet end minus data', src: `${PKT}sub %r3, %r2\nmov %r0, %r3\nexit` },
];
