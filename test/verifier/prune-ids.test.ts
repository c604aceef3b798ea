// State pruning pairs ids through one map, both ways, as the kernel's regsafe/check_ids do. Each
// unsafe program below reaches one prune point along two paths that differ in which registers share
// an id (packet pointers, copies of a nullable map value, linked scalars, spills of them, a caller's
// register linked to a callee's argument). The first path explored is safe only because of the link;
// the second makes an access the link would have covered. Without the pairing the first path's state
// prunes the second (registers are shared between states, so the register both paths hold unchanged
// is the same object in both, and an identity shortcut skipped its id) and the program was accepted:
// the JIT would then read past the packet or the map value unchecked.
//
// Messages are the kernel's (Linux 6.18, asked through test/support/bpf-load.c). The `was` field
// records vxo's verdict before the fix.
import test from 'ava';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { verifyProgram, VerifierError } from '../../bpf-vm/verifier/index.ts';
import type { VerifierCase } from './cases.ts';
import { caseProgram } from './support.ts';

const { BPF_PROG_TYPE_XDP: XDP, BPF_PROG_TYPE_SCHED_CLS: TC, BPF_PROG_TYPE_SOCKET_FILTER: SOCKET } = BPF_PROG_TYPE;
const TYPE_NAMES: Readonly<Record<number, string>> = { [XDP]: 'xdp', [TC]: 'tc', [SOCKET]: 'socket filter' };
const HASH = 1;
const M16 = { m: [HASH, 4, 16, 16, 0] as [number, number, number, number, number] };
const M8 = { m: [HASH, 4, 8, 16, 0] as [number, number, number, number, number] };

/**
 * Enough work after the branch for the first path to record a state at the join (a jump and 8
 * instructions since the last one). r5 is free wherever it is used.
 */
const PAD = 'mov %r5, 0\n'.repeat(7);

/** Offsets of data and data_end in the program type's context. */
const PKT_FIELDS: Readonly<Record<number, [number, number]>> = { [XDP]: [0, 4], [TC]: [76, 80] };

/** r9 = a non-NULL value of map m (HASH, 16-byte values). */
const MAP_VALUE = `mov %r1, 0
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
jeq %r0, 0, out
mov %r9, %r0
`;

/**
 * The shape of the kernel's id_in_regsafe_bad_access: r2 and r3 point into the packet at different
 * unknown offsets (so each has its own id); one path makes r2 a copy of r3. A bounds check of r3
 * then proves r2's byte only on that path.
 */
function packetIds(type: number, accessVia = 'r2'): string {
  const [data, end] = PKT_FIELDS[type]!;
  return `mov %r9, %r1
call 5
mov %r7, %r0
call 5
mov %r6, %r0
ldxw %r2, [%r9+${data}]
ldxw %r3, [%r9+${data}]
ldxw %r4, [%r9+${end}]
jgt %r6, 100, out
jgt %r7, 100, out
add %r2, %r6
add %r2, 1
add %r3, %r7
add %r3, 1
jne %r6, %r7, join
mov %r2, %r3
join:
jgt %r3, %r4, out
ldxb %r5, [%${accessVia}-1]
out:
mov %r0, 0
exit`;
}

/** The same, with the copy of r3 (or r2 itself) spilled to the stack and filled after the check. */
function packetIdsSpilled(type: number): string {
  const [data, end] = PKT_FIELDS[type]!;
  return `mov %r9, %r1
call 5
mov %r7, %r0
call 5
mov %r6, %r0
ldxw %r2, [%r9+${data}]
ldxw %r3, [%r9+${data}]
ldxw %r4, [%r9+${end}]
jgt %r6, 100, out
jgt %r7, 100, out
add %r2, %r6
add %r2, 1
add %r3, %r7
add %r3, 1
jne %r6, %r7, other
stxdw [%r10-8], %r3
${PAD}ja join
other:
stxdw [%r10-8], %r2
join:
jgt %r3, %r4, out
ldxdw %r2, [%r10-8]
ldxb %r5, [%r2-1]
out:
mov %r0, 0
exit`;
}

/** Two lookups; one path makes r6 a copy of r7, so the NULL check of r7 covers r6 only there. */
const NULLABLE_COPIES = `mov %r1, 0
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
mov %r7, %r0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
mov %r6, %r0
call 5
mov %r8, %r0
call 5
jne %r0, %r8, join
mov %r6, %r7
${PAD}ja join
join:
jeq %r7, 0, out
ldxb %r0, [%r6+0]
out:
mov %r0, 0
exit`;

/**
 * r6 and r7 in [0, 255]; one path links them (r6 = r7, the kernel's check_ids example for scalars),
 * so bounding r6 by 8 bounds r7 there only, and r7 indexes a 16-byte map value.
 */
const LINKED_SCALARS = `${MAP_VALUE}call 5
and %r0, 255
mov %r7, %r0
call 5
and %r0, 255
mov %r6, %r0
call 5
jne %r0, 0, join
mov %r6, %r7
${PAD}ja join
join:
jgt %r6, 8, out
add %r9, %r7
ldxb %r0, [%r9+0]
out:
mov %r0, 0
exit`;

/** The same with the bounded copy going through a stack slot. */
const LINKED_SCALAR_SPILLED = `${MAP_VALUE}call 5
and %r0, 255
mov %r7, %r0
call 5
and %r0, 255
mov %r6, %r0
call 5
jne %r0, 0, other
mov %r6, %r7
stxdw [%r10-16], %r6
${PAD}ja join
other:
stxdw [%r10-16], %r6
join:
ldxdw %r1, [%r10-16]
jgt %r1, 8, out
add %r9, %r7
ldxb %r0, [%r9+0]
out:
mov %r0, 0
exit`;

/**
 * The link crosses frames: the callee bounds its argument, which on one path is a copy of the
 * caller's r6; the caller then indexes the map value with r6. The states compared are the callee's.
 */
const LINKED_ACROSS_FRAMES = `${MAP_VALUE}call 5
and %r0, 255
mov %r6, %r0
call 5
and %r0, 255
mov %r7, %r0
call 5
jne %r0, 0, other
mov %r1, %r6
${PAD}mov %r1, %r6
ja join
other:
mov %r1, %r7
join:
call local f
jeq %r0, 0, out
add %r9, %r6
ldxb %r0, [%r9+0]
out:
mov %r0, 0
exit
f:
mov %r0, 0
${PAD}ja +0
jgt %r1, 8, fout
mov %r0, 1
fout:
exit`;

/** r0 = bpf_sk_lookup_tcp(ctx in r6, zeroed tuple at fp-40). */
const SK_LOOKUP = `mov %r1, %r6
mov %r2, 0
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

/**
 * Two sockets held in r7 and r8; r9 is a copy of one or the other. Releasing r9 then r8 is right
 * only when r9 holds the first: the reference ids pair the holders as they pair the references.
 */
const SOCKET_HOLDERS = `mov %r6, %r1
${SK_LOOKUP}jne %r0, 0, gota
mov %r0, 0
exit
gota:
mov %r7, %r0
${SK_LOOKUP}jne %r0, 0, gotb
mov %r1, %r7
call 86
mov %r0, 0
exit
gotb:
mov %r8, %r0
call 5
jne %r0, 0, other
mov %r9, %r7
${PAD}ja join
other:
mov %r9, %r8
join:
mov %r1, %r9
call 86
mov %r1, %r8
call 86
mov %r0, 0
exit`;

/** One path proves 14 packet bytes, the other 4; byte 10 is read after they meet. */
const PACKET_RANGE = `mov %r6, %r1
call 5
ldxw %r2, [%r6+0]
ldxw %r3, [%r6+4]
mov %r4, %r2
jne %r0, 0, short
add %r4, 14
jgt %r4, %r3, out
${PAD}ja join
short:
add %r4, 4
jgt %r4, %r3, out
join:
ldxb %r0, [%r2+10]
out:
mov %r0, 0
exit`;

/** A constant offset that differs between the paths, used after they meet (in a register or a slot). */
const PRECISE_REG = `${MAP_VALUE}call 5
jne %r0, 0, other
mov %r6, 0
${PAD}ja join
other:
mov %r6, 100
join:
call 5
add %r9, %r6
ldxb %r0, [%r9+0]
out:
mov %r0, 0
exit`;

const PRECISE_SLOT = `${MAP_VALUE}call 5
jne %r0, 0, other
mov %r6, 3
stxdw [%r10-16], %r6
${PAD}ja join
other:
mov %r6, 100
stxdw [%r10-16], %r6
join:
call 5
ldxdw %r6, [%r10-16]
add %r9, %r6
ldxb %r0, [%r9+0]
out:
mov %r0, 0
exit`;

/**
 * A stack pointer with a variable offset {0, 8} on one path and a constant one on the other: a byte
 * store through the first turns the spilled context pointer at fp-8 into data, the second leaves
 * it, and fp-8 is returned. The kernel compares stack pointers exactly (regs_exact); a root loader
 * may return pointers, so only vxo, which never lets a program return one, rejects this.
 */
const STACK_VAR_OFF = `stxdw [%r10-8], %r1
mov %r1, 0
stxdw [%r10-16], %r1
call 5
mov %r8, %r0
and %r0, 8
mov %r7, %r10
add %r7, -16
jne %r8, 0, other
add %r7, %r0
${PAD}ja join
other:
mov %r0, 0
add %r7, %r0
join:
mov %r1, 1
stxb [%r7+0], %r1
ldxdw %r0, [%r10-8]
exit`;

interface PruneCase extends VerifierCase {
  msg: string;
  /** vxo's verdict before ids were always paired. */
  was: 'accepted' | 'rejected';
}

const MAP_OOB = 'invalid access to map value, value_size=16 off=255 size=1';
const PKT_OOB = 'invalid access to packet, off=0 size=1, R2(id=3,off=0,r=0)';

const CASES: PruneCase[] = [
  ...[XDP, TC].flatMap((type): PruneCase[] => [
    { name: `packet ids: r2 = r3 on one path only (id_in_regsafe_bad_access), ${TYPE_NAMES[type]}`, type, src: packetIds(type), msg: PKT_OOB, was: 'accepted' },
    { name: `packet ids: the copy goes through a stack slot, ${TYPE_NAMES[type]}`, type, src: packetIdsSpilled(type), msg: PKT_OOB, was: 'accepted' },
  ]),
  // Socket filters may not read the packet directly: their id cases are the type-independent ones.
  ...[XDP, TC, SOCKET].flatMap((type): PruneCase[] => [
    { name: `nullable map value: r6 = r7 on one path only, ${TYPE_NAMES[type]}`, type, maps: M8, src: NULLABLE_COPIES,
      msg: "R6 invalid mem access 'map_value_or_null'", was: 'accepted' },
    { name: `linked scalars: r6 = r7 on one path only, ${TYPE_NAMES[type]}`, type, maps: M16, src: LINKED_SCALARS, msg: MAP_OOB, was: 'accepted' },
    { name: `linked scalars: the bounded copy spilled, ${TYPE_NAMES[type]}`, type, maps: M16, src: LINKED_SCALAR_SPILLED, msg: MAP_OOB, was: 'accepted' },
    { name: `linked scalars: a caller's register bounded in the callee, ${TYPE_NAMES[type]}`, type, maps: M16, src: LINKED_ACROSS_FRAMES, msg: MAP_OOB, was: 'accepted' },
  ]),
  { name: 'socket references: holders paired with the references they hold', type: TC, src: SOCKET_HOLDERS,
    msg: 'R1 type=scalar expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_', was: 'rejected' },
  { name: 'packet range: the old state proved more than the current one', src: PACKET_RANGE,
    msg: 'invalid access to packet, off=10 size=1, R2(id=0,off=10,r=4)', was: 'rejected' },
  { name: 'precision: a constant offset in a register', maps: M16, src: PRECISE_REG,
    msg: 'invalid access to map value, value_size=16 off=100 size=1', was: 'rejected' },
  { name: 'precision: a constant offset in a stack slot', maps: M16, src: PRECISE_SLOT,
    msg: 'invalid access to map value, value_size=16 off=100 size=1', was: 'rejected' },
  { name: 'stack pointers: a variable offset does not contain a constant one (vxo: no pointer returned)', src: STACK_VAR_OFF,
    msg: 'R0 leaks addr as return value', was: 'accepted', ours: true },
];

for (const c of CASES) {
  test(`rejects: ${c.name}`, (t) => {
    const err = t.throws(() => verifyProgram(caseProgram(c), { logLevel: 1 }), { instanceOf: VerifierError });
    t.is(err?.message, c.msg);
    t.is(err?.code, 'EACCES');
  });
}

test('accepts: the packet ids shape reading through the checked pointer', (t) => {
  for (const type of [XDP, TC]) t.notThrows(() => verifyProgram(caseProgram({ type, src: packetIds(type, 'r3') })));
});

test('a recorded state with unlinked scalars still prunes a path where they are linked', (t) => {
  // Both scalars bounded separately, so the program is safe on both paths. The unlinked path is
  // explored first; its r6 and r7 had ids of their own (copies of r0, since overwritten), which
  // clear_singular_ids drops when the state is recorded, so the linked path is cut at the join.
  const src = `${MAP_VALUE}call 5
and %r0, 255
mov %r7, %r0
call 5
and %r0, 255
mov %r6, %r0
call 5
jne %r0, 0, link
${PAD}ja join
link:
mov %r6, %r7
join:
jgt %r6, 8, out
jgt %r7, 8, out
add %r9, %r6
add %r9, %r7
ldxb %r0, [%r9+0]
out:
mov %r0, 0
exit`;
  const r = verifyProgram(caseProgram({ maps: { m: [HASH, 4, 32, 16, 0] }, src }), { logLevel: 2 });
  t.regex(r.log, /^26: safe$/m);
});
