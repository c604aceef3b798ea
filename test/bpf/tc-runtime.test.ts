// tc and socket filter programs at run time, on both engines: __sk_buff loads (narrow ones with
// the kernel's shift-and-mask) and stores, the runner with a network stack behind it (skb->sk,
// unclone before direct writes, skb_change_tail and fib_lookup through the host, redirect), LD_ABS
// with the SKF_* bases, BPF_PROG_TEST_RUN's ctx_in rules and errnos, and the helper tables.
import test from 'ava';
import { ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import { BpfError } from '../../bpf-vm/errors.ts';
import { HELPERS_BY_ID, helpersFor } from '../../bpf-vm/helpers/table.ts';
import { TC_ACT_REDIRECT, tcRedirect } from '../../bpf-vm/helpers/skb-helpers.ts';
import { SK_BUFF, SK_BUFF_SIZE, BPF_SOCK } from '../../bpf-vm/prog/bpf-sock.ts';
import { SkbProgramRunner } from '../../bpf-vm/prog/skb-runner.ts';
import { skb_at_tc_ingress } from '../../bpf-vm/prog/skb-ctx.ts';
import type { BpfNetHost, BpfSkb, BpfSockRef } from '../../bpf-vm/prog/sock-host.ts';
import { bpfProgTestRunSkb } from '../../bpf-vm/prog/test-run-skb.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { asmXdp } from '../support/vm.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { udp4Frame } from '../support/packets.ts';
import { skbProgram } from './tc-cases.ts';

const frame = udp4Frame();
const tc = (src: string) => skbProgram(src, 'tc');
const sf = (src: string) => skbProgram(src, 'socket');
const ctxWith = (set: (dv: DataView) => void): Uint8Array => {
  const b = new Uint8Array(SK_BUFF_SIZE);
  set(new DataView(b.buffer));
  return b;
};

/** A BpfSkb as a stack hands it over: data at the link header, every header set. */
function stackSkb(bytes: Uint8Array, headroom = 32, tailroom = 16): BpfSkb {
  const head = new Uint8Array(headroom + bytes.length + tailroom);
  head.set(bytes, headroom);
  return {
    head, view: new DataView(head.buffer), data: headroom, tail: headroom + bytes.length, end: head.length, len: bytes.length,
    mac_header: headroom, network_header: headroom + 14, transport_header: headroom + 34, mac_len: 14, protocol: 0x0800,
    pkt_type: 0, mark: 0, priority: 0, queue_mapping: 3, hash: 0x1234, tc_index: 0, tc_classid: 0, tstamp: 5e9, skb_iif: 4,
    meta_len: 0, bpf_cb: new Uint8Array(20), dev: { ifindex: 4 }, sk: null,
  };
}

/** A stack with one socket, counting what bpf-vm asks of it. */
class FakeHost implements BpfNetHost {
  readonly netns_id = 1;
  readonly calls: string[] = [];
  writable = 0;
  sk_lookup(): BpfSockRef | null { return null; }
  sk_release(): void { this.calls.push('release'); }
  fill_bpf_sock(_sk: BpfSockRef, dv: DataView, off: number): void { this.calls.push('fill'); dv.setUint32(off + BPF_SOCK.family, 2, true); dv.setUint32(off + BPF_SOCK.mark, 77, true); }
  fill_bpf_tcp_sock(): boolean { return false; }
  sk_fullsock(sk: BpfSockRef): BpfSockRef | null { return sk; }
  sk_cookie(): bigint { return 1n; }
  sk_by_cookie(): BpfSockRef | null { return null; }
  sk_assign_skb(): number { return 0; }
  sk_assign_lookup(): number { return 0; }
  tcp_check_syncookie(): number { return -22; }
  tcp_gen_syncookie(): bigint { return -22n; }
  fib_lookup(params: Uint8Array, flags: number, ifindex: number): number {
    this.calls.push(`fib ${flags} ${ifindex}`);
    params[8] = 9;
    return 0;
  }
  skb_change_tail(skb: BpfSkb, len: number): number { this.calls.push(`tail ${len}`); skb.len = len; skb.tail = skb.data + len; return 0; }
  skb_ensure_writable(_skb: BpfSkb, len: number): number { this.calls.push(`writable ${len}`); return this.writable; }
}

for (const engine of ENGINES) {
  const run = (src: string, o: { ctxIn?: Uint8Array; kind?: 'tc' | 'socket'; dataIn?: Uint8Array; verify?: boolean } = {}) =>
    bpfProgTestRunSkb(o.kind === 'socket' ? sf(src) : tc(src), { dataIn: o.dataIn ?? frame, ctxIn: o.ctxIn, engine, verify: o.verify });

  test(`${engine}: narrow loads shift and mask as the kernel's rewrite, and a load as wide as the field gets it whole`, (t) => {
    // protocol (0x0800, network order in memory: bytes 08 00): byte 16 is 8, byte 17 is 0.
    t.is(run('ldxb %r0, [%r1+16]\nexit').retval, 8);
    t.is(run('ldxb %r0, [%r1+17]\nexit').retval, 0);
    t.is(run('ldxh %r0, [%r1+18]\nexit').retval, 8, 'the u16 at protocol + 2 is protocol again');
    t.is(run('ldxw %r0, [%r1+16]\nexit').retval, 8);
    // len 42: byte 0 is 42, the upper half-word 0.
    t.is(run('ldxb %r0, [%r1+0]\nexit').retval, 42);
    t.is(run('ldxh %r0, [%r1+2]\nexit').retval, 0);
    // ifindex: lo.
    t.is(run('ldxw %r0, [%r1+40]\nexit').retval, 1);
  });

  test(`${engine}: stores reach the skb: mark, priority, tc_index and tc_classid (16 bits), queue_mapping below NO_QUEUE_MAPPING, cb`, (t) => {
    const src = 'mov %r2, 0x12345\nstxw [%r1+8], %r2\nstxw [%r1+32], %r2\nstxw [%r1+44], %r2\nstxw [%r1+72], %r2\nstxw [%r1+48], %r2\n' +
      'ldxw %r3, [%r1+44]\nldxw %r4, [%r1+72]\nmov %r0, %r3\nadd %r0, %r4\nexit';
    const r = run(src, { ctxIn: new Uint8Array(0) });
    t.is(r.retval, 0x2345 * 2);
    const dv = new DataView(r.ctxOut!.buffer);
    t.is(dv.getUint32(SK_BUFF.mark, true), 0x12345);
    t.is(dv.getUint32(SK_BUFF.priority, true), 0x12345);
    t.is(dv.getUint32(SK_BUFF.cb, true), 0x12345);
    const q = (v: string) => run(`lddw %r2, ${v}\nstxw [%r1+12], %r2\nldxw %r0, [%r1+12]\nexit`).retval;
    t.is(q('0x0000000000000005'), 5);
    t.is(q('0x000000000000ffff'), 0, 'NO_QUEUE_MAPPING: not stored');
    t.is(q('0x0000000100000005'), 0, 'the whole 64-bit register is compared');
  });

  test(`${engine}: sign-extending loads of __sk_buff fields: the field's value, then sign-extended`, (t) => {
    t.is(run('mov %r2, 0xff\nstxw [%r1+8], %r2\nldxbsx %r0, [%r1+8]\nexit').retval, 0xffffffff);
    t.is(run('mov %r2, 0xff\nstxw [%r1+8], %r2\nldxbsx %r0, [%r1+8]\nrsh %r0, 32\nexit').retval, 0xffffffff, 'all 64 bits');
    t.is(run('mov %r2, 0x8001\nstxw [%r1+48], %r2\nldxhsx %r0, [%r1+48]\nexit').retval, 0xffff8001);
    t.is(run('ldxhsx %r0, [%r1+16]\nexit').retval, 8);
  });

  test(`${engine}: an unverified program's context stores and loads are checked (a bad one faults)`, (t) => {
    t.is(run('mov %r2, 9\nstxw [%r1+8], %r2\nldxw %r0, [%r1+8]\nexit', { verify: false }).retval, 9);
    t.throws(() => run('mov %r2, 9\nstxw [%r1+0], %r2\nexit', { verify: false }), { message: /invalid bpf_context access off=0 size=4/ });
    t.throws(() => run('ldxw %r0, [%r1+88]\nexit', { verify: false }), { message: /invalid bpf_context access off=88 size=4/ });
  });

  test(`${engine}: socket filters' LD_ABS counts from the network header; SKF_NET_OFF and SKF_LL_OFF reach the headers; outside, the filter returns 0`, (t) => {
    t.is(run('mov %r6, %r1\nldabsb 9\nexit', { kind: 'socket' }).retval, 17, 'IP protocol');
    t.is(run('mov %r6, %r1\nlddw %r7, -0x100000\nldindb %r7, 9\nexit', { kind: 'socket' }).retval, 17, 'SKF_NET_OFF + 9');
    t.is(run('mov %r6, %r1\nlddw %r7, -0x200000\nldindh %r7, 12\nexit', { kind: 'socket' }).retval, 0x0800, 'SKF_LL_OFF + 12: the EtherType');
    t.is(run('mov %r6, %r1\nldabsw 40\nmov %r0, 1\nexit', { kind: 'socket' }).retval, 0, 'past the packet');
    t.is(run('mov %r6, %r1\nlddw %r7, -0x300000\nldindb %r7, 0\nmov %r0, 1\nexit', { kind: 'socket' }).retval, 0, 'below SKF_LL_OFF');
    t.is(run('mov %r6, %r1\nldabsh 12\nexit').retval, 0x0800, 'tc: from the link header');
  });

  test(`${engine}: a socket filter's data_out has a cleared link header in front, as the kernel pushes one`, (t) => {
    const r = run('mov %r0, 0\nexit', { kind: 'socket' });
    t.deepEqual([...r.dataOut.subarray(0, 14)], new Array(14).fill(0));
    t.deepEqual([...r.dataOut.subarray(14)], [...frame.subarray(14)]);
  });

  test(`${engine}: skb_change_tail past the buffer reallocates the head; the program writes the new tail directly`, (t) => {
    // grow by 5000 bytes, reload data/data_end, write the last byte, return len
    const src = 'mov %r6, %r1\nldxw %r2, [%r6+0]\nadd %r2, 5000\nmov %r3, 0\ncall 38\nldxw %r2, [%r6+76]\nldxw %r3, [%r6+80]\n' +
      'mov %r4, %r2\nadd %r4, 5042\njgt %r4, %r3, +3\nstb [%r2+5041], 0x5a\nldxw %r0, [%r6+0]\nexit\nmov %r0, 0\nexit';
    const r = run(src);
    t.is(r.retval, 5042);
    t.is(r.dataOut.length, 5042);
    t.is(r.dataOut[5041], 0x5a);
    t.is(r.dataOut[5040], 0, 'new bytes are zero');
  });

  test(`${engine}: the runner hands skb->sk out as a socket slot (no reference), unclones before direct writes, and asks the host for tail changes and routes`, (t) => {
    const host = new FakeHost();
    const sk = {};
    const prog = tc('ldxdw %r2, [%r1+168]\nmov %r0, 0\njeq %r2, 0, +2\nldxw %r0, [%r2+4]\nldxdw %r3, [%r1+168]\nstb [%r10-1], 0\nexit');
    const runner = new SkbProgramRunner(prog, { engine, netHost: host });
    const skb = stackSkb(frame);
    skb.sk = sk;
    t.is(runner.run(skb, true), 2, 'bpf_sock.family as the host filled it');
    t.deepEqual(host.calls, ['fill'], 'one slot for two loads; no reference to release');
    t.is(runner.env.socks.inUse, 0, 'slots reset after the run');
    skb.sk = null;
    t.is(runner.run(skb, true), 0);

    const writer = new SkbProgramRunner(tc('ldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\nmov %r4, %r2\nadd %r4, 1\nmov %r0, 0\njgt %r4, %r3, +1\nstb [%r2+0], 1\nexit'), { engine, netHost: host });
    host.calls.length = 0;
    t.is(writer.run(stackSkb(frame), false), 0);
    t.deepEqual(host.calls, [`writable ${frame.length}`]);
    host.writable = -12;
    t.is(writer.run(stackSkb(frame), false), 2, 'TC_ACT_SHOT when the skb cannot be made writable');
    host.writable = 0;

    host.calls.length = 0;
    const tail = new SkbProgramRunner(tc('mov %r2, 60\nmov %r3, 0\ncall 38\nexit'), { engine, netHost: host });
    const s2 = stackSkb(frame);
    t.is(tail.run(s2, false), 0);
    t.deepEqual(host.calls, ['tail 60']);
    t.is(s2.len, 60);

    host.calls.length = 0;
    const fib = new SkbProgramRunner(tc('stdw [%r10-64], 2\n' + Array.from({ length: 7 }, (_, i) => `stdw [%r10-${56 - 8 * i}], 0`).join('\n') +
      '\nmov %r2, %r10\nadd %r2, -64\nmov %r3, 64\nmov %r4, 1\ncall 69\nldxb %r1, [%r10-56]\nlsh %r1, 8\nor %r0, %r1\nexit'), { engine, netHost: host });
    t.is(fib.run(stackSkb(frame), false), 9 << 8, 'returns the host\'s verdict; params written in place');
    t.deepEqual(host.calls, ['fib 1 4']);
  });

  test(`${engine}: bpf_redirect at tc: target and BPF_F_INGRESS kept for cls_bpf, TC_ACT_REDIRECT; other flags TC_ACT_SHOT; cleared per run`, (t) => {
    const runner = new SkbProgramRunner(tc('mov %r1, 7\nmov %r2, 1\ncall 23\nexit'), { engine });
    t.is(runner.run(stackSkb(frame), true), TC_ACT_REDIRECT);
    t.is(runner.env.redirect.ifindex, 7);
    t.is(runner.env.redirectFlags, 1);
    const plain = new SkbProgramRunner(tc('ldxw %r0, [%r1+0]\nexit'), { engine });
    plain.env.redirect.ifindex = 9;
    plain.env.redirectFlags = 1;
    plain.run(stackSkb(frame), false);
    t.is(plain.env.redirect.ifindex, 0);
    t.is(plain.env.redirectFlags, 0);
    t.is(run('mov %r1, 7\nmov %r2, 2\ncall 23\nexit').retval, 2);
  });

  test(`${engine}: bpf_fib_lookup without a stack: -EINVAL for a short params or unknown flag, -EAFNOSUPPORT, else -ENODEV; XDP has it too`, (t) => {
    const fib = (family: number, plen: number, flags: number) => 'mov %r2, 0\n' + Array.from({ length: 8 }, (_, i) => `stxdw [%r10-${64 - 8 * i}], %r2`).join('\n') +
      `\nstb [%r10-64], ${family}\nmov %r2, %r10\nadd %r2, -64\nmov %r3, ${plen}\nmov %r4, ${flags}\ncall 69\nexit`;
    t.is(run(fib(2, 63, 0)).retval, -22 >>> 0);
    t.is(run(fib(2, 64, 64)).retval, -22 >>> 0);
    t.is(run(fib(7, 64, 0)).retval, -97 >>> 0);
    t.is(run(fib(2, 64, 0)).retval, -19 >>> 0);
    t.is(bpfProgTestRun(asmXdp(fib(10, 64, 1)), { dataIn: frame, engine }).retval, -19 >>> 0);
  });

  test(`${engine}: bpf_l4_csum_replace with BPF_F_MARK_MANGLED_0: a zero (absent) UDP checksum stays so, unless enforced; a result of 0 becomes 0xffff`, (t) => {
    // The UDP checksum of udp4Frame sits at 40; set it, then replace 2-byte 0x0001 by 0x0000.
    const l4 = (sum: number, flags: number) => run(`mov %r6, %r1\nmov %r2, ${sum}\nbe16 %r2\nstxh [%r10-2], %r2\nmov %r1, %r6\nmov %r2, 40\nmov %r3, %r10\nadd %r3, -2\nmov %r4, 2\nmov %r5, 0\ncall 9\n` +
      `mov %r1, %r6\nmov %r2, 40\nmov %r3, 0x100\nmov %r4, 0\nmov %r5, ${flags}\ncall 11\nmov %r7, %r0\nmov %r1, %r6\nmov %r2, 40\nmov %r3, %r10\nadd %r3, -4\nmov %r4, 2\ncall 26\nldxh %r0, [%r10-4]\nbe16 %r0\nexit`);
    const MM = 0x20 | 2, ENF = 0x40;
    t.is(l4(0, MM).retval, 0, 'absent checksum untouched');
    t.is(l4(0, MM | ENF).retval, 1, 'enforced: the field 00 01 (0x0001) removed from an all-ones sum');
    t.is(l4(0xfffe, MM).retval, 0xffff, 'a result of 0 is sent as CSUM_MANGLED_0');
    t.is(l4(0xfffe, 2).retval, 0, 'without the flag it stays 0');
  });

  test(`${engine}: bpf_get_hash_recalc keeps the skb's hash, or computes a stable one for the flow`, (t) => {
    const runner = new SkbProgramRunner(tc('call 34\nexit'), { engine });
    t.is(runner.run(stackSkb(frame), false), 0x1234);
    const s = stackSkb(frame);
    s.hash = 0;
    const h = runner.run(s, false);
    t.not(h, 0);
    t.is(s.hash, h);
    const s2 = stackSkb(frame);
    s2.hash = 0;
    t.is(runner.run(s2, false), h, 'same flow, same hash');
  });

  test(`${engine}: skb_at_tc_ingress follows run()'s ingress flag`, (t) => {
    const runner = new SkbProgramRunner(tc('mov %r0, 0\nexit'), { engine });
    runner.run(stackSkb(frame), true);
    t.true(skb_at_tc_ingress(runner.env));
    runner.run(stackSkb(frame), false);
    t.false(skb_at_tc_ingress(runner.env));
  });
}

test('BPF_PROG_TEST_RUN for skb programs refuses what the kernel refuses, with its errno', (t) => {
  const prog = tc('mov %r0, 0\nexit');
  const code = (o: { dataIn?: Uint8Array; ctxIn?: Uint8Array }) =>
    t.throws(() => bpfProgTestRunSkb(prog, { dataIn: o.dataIn ?? frame, ctxIn: o.ctxIn }), { instanceOf: BpfError })!.code;
  t.is(code({ dataIn: new Uint8Array(13) }), 'EINVAL');
  t.is(code({ ctxIn: ctxWith((dv) => dv.setUint32(SK_BUFF.len, 1, true)) }), 'EINVAL');
  t.is(code({ ctxIn: ctxWith((dv) => dv.setUint32(SK_BUFF.tc_index, 1, true)) }), 'EINVAL');
  t.is(code({ ctxIn: ctxWith((dv) => dv.setUint32(SK_BUFF.ifindex, 2, true)) }), 'ENODEV');
  t.is(code({ ctxIn: ctxWith((dv) => dv.setUint32(SK_BUFF.wire_len, 10, true)) }), 'EINVAL');
  t.is(code({ ctxIn: ctxWith((dv) => dv.setUint32(SK_BUFF.gso_segs, 65536, true)) }), 'EINVAL');
  t.is(code({ ctxIn: Uint8Array.from([...new Uint8Array(SK_BUFF_SIZE), 1]) }), 'E2BIG');
  const ok = bpfProgTestRunSkb(prog, { dataIn: frame, ctxIn: Uint8Array.from([...ctxWith((dv) => dv.setUint32(SK_BUFF.ifindex, 1, true)), 0, 0]) });
  t.is(new DataView(ok.ctxOut!.buffer).getUint32(SK_BUFF.wire_len, true), frame.length, 'with a ctx, wire_len is the length');
});

test('the helper tables: tc gets its own bpf_redirect under id 23, XDP keeps its own, socket filters get only the load helpers', (t) => {
  t.is(helpersFor(BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS).get(23), tcRedirect);
  t.not(helpersFor(BPF_PROG_TYPE.BPF_PROG_TYPE_XDP).get(23), tcRedirect);
  t.is(HELPERS_BY_ID.get(23), helpersFor(BPF_PROG_TYPE.BPF_PROG_TYPE_XDP).get(23));
  const sfIds = [...helpersFor(BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER).keys()];
  t.true(sfIds.includes(26) && sfIds.includes(68));
  t.false(sfIds.includes(9) || sfIds.includes(23) || sfIds.includes(38));
  for (const id of [9, 10, 11, 26, 34, 38, 39, 68, 69]) t.truthy(helpersFor(BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS).get(id), `tc helper ${id}`);
  t.truthy(helpersFor(BPF_PROG_TYPE.BPF_PROG_TYPE_XDP).get(69));
});

export type { EngineName };
