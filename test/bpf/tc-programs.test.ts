// The clang-built tc and socket filter fixtures (test/fixtures/tc, make -C test/fixtures/tc) on
// both engines through bpfProgTestRunSkb: what each program computes, read back from retval,
// data_out and ctx_out. test/kernel/tc-test-run.test.ts runs the same programs and inputs on
// the kernel and compares byte for byte.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { SK_BUFF, SK_BUFF_SIZE } from '../../bpf-vm/prog/bpf-sock.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { bpfProgTestRunSkb, type SkbTestRunResult } from '../../bpf-vm/prog/test-run-skb.ts';
import { ethernet, internetChecksum, ipv4, udp, udp4Frame } from '../support/packets.ts';

const DIR = fileURLToPath(new URL('../fixtures/tc/', import.meta.url));
const ctxIn = (cb: number[] = [], extra: (dv: DataView) => void = () => {}): Uint8Array => {
  const b = new Uint8Array(SK_BUFF_SIZE);
  const dv = new DataView(b.buffer);
  cb.forEach((v, i) => dv.setUint32(SK_BUFF.cb + 4 * i, v, true));
  extra(dv);
  return b;
};
const u32 = (r: SkbTestRunResult, off: number): number => new DataView(r.ctxOut!.buffer).getUint32(off, true);
const cb = (r: SkbTestRunResult, i: number): number => u32(r, SK_BUFF.cb + 4 * i);
const udp7 = (): Uint8Array => ethernet(0x0800, ipv4(17, udp(new Uint8Array([1, 2, 3, 4, 5, 6]), { srcPort: 1234, dstPort: 7 })));

for (const engine of ENGINES) {
  const run = (obj: string, program: string, dataIn: Uint8Array, ctx?: Uint8Array) =>
    bpfProgTestRunSkb(loadObjectFile(`${DIR}${obj}`).program(program), { dataIn, ctxIn: ctx, engine });

  test(`${engine}: tc_ctx ctx_fields reads every field and writes them back through the writable ones`, (t) => {
    const frame = udp4Frame();
    const r = run('tc_ctx.o', 'ctx_fields', frame, ctxIn([1, 2, 3, 4, 5], (dv) => {
      dv.setUint32(SK_BUFF.gso_segs, 3, true); dv.setUint32(SK_BUFF.gso_size, 1400, true); dv.setBigUint64(SK_BUFF.tstamp, 1000n, true);
    }));
    t.is(r.retval, 0);
    t.is(u32(r, SK_BUFF.mark), 0x0008 | (3 << 16) | (1 << 24), 'protocol in network order, PACKET_OTHERHOST (not lo\'s all-zero address), ifindex lo');
    t.is(u32(r, SK_BUFF.priority), frame.length);
    t.is(cb(r, 0), 1 + frame.length, 'wire_len: the length, with a ctx');
    t.is(cb(r, 1), 3 | (1400 << 16));
    t.is(cb(r, 3), 0x08 | (0x08 << 16), 'bytes 16 and 17 of protocol; the u16 at 18 is protocol whole');
    t.is(cb(r, 4), 0, 'len\'s upper half and second byte, tc_classid 0');
    t.is(new DataView(r.ctxOut!.buffer).getBigUint64(SK_BUFF.tstamp, true), 2000n);
    t.deepEqual([...r.dataOut], [...frame]);
  });

  test(`${engine}: tc_ctx ctx_packet writes the packet through data/data_end; ctx_cb_wide uses 8-byte cb accesses`, (t) => {
    const frame = udp4Frame();
    const r = run('tc_ctx.o', 'ctx_packet', frame, ctxIn());
    t.deepEqual([...r.dataOut.subarray(0, 12)], [...frame.subarray(6, 12), ...frame.subarray(0, 6)]);
    t.is(u32(r, SK_BUFF.mark), frame.length);
    const w = run('tc_ctx.o', 'ctx_cb_wide', frame, ctxIn([0x11223344, 0x55667788]));
    const v = 0x5566778811223344n;
    const out = BigInt.asUintN(64, v * 3n + 1n);
    t.is(BigInt(cb(w, 2)) | (BigInt(cb(w, 3)) << 32n), out);
    t.is(cb(w, 4), 0x55667788);
    t.is(w.retval, 0xffffffff, 'TC_ACT_UNSPEC (-1)');
  });

  test(`${engine}: tc_helpers rewrite_port: new UDP port by skb_store_bytes, checksums fixed by l3/l4_csum_replace`, (t) => {
    const frame = udp4Frame({ udp: { dstPort: 53 } });
    const r = run('tc_helpers.o', 'rewrite_port', frame, ctxIn());
    t.is(r.retval, 0);
    const dv = new DataView(r.dataOut.buffer);
    t.is(dv.getUint16(36, false), 8080);
    t.is(r.dataOut[22], frame[22]! - 1, 'TTL decremented');
    t.is(internetChecksum(r.dataOut.subarray(14, 34)), 0, 'IP header checksum still valid');
  });

  test(`${engine}: tc_helpers helper_errors: the kernel's errnos`, (t) => {
    const r = run('tc_helpers.o', 'helper_errors', udp4Frame(), ctxIn());
    t.is(r.retval, 0);
    t.deepEqual([0, 1, 2, 3, 4].map((i) => cb(r, i) | 0), [-14, -22, -14, -22, -22]);
    t.is(u32(r, SK_BUFF.mark) | 0, -14);
    t.is(u32(r, SK_BUFF.priority) | 0, -14);
  });

  test(`${engine}: tc_helpers load_bytes: from data, from the network and link headers, and past the end`, (t) => {
    const frame = udp4Frame();
    const r = run('tc_helpers.o', 'load_bytes', frame, ctxIn());
    const le = (o: number) => new DataView(frame.buffer, frame.byteOffset).getUint32(o, true);
    t.deepEqual([cb(r, 0), cb(r, 1), cb(r, 2), cb(r, 3), cb(r, 4)], [0, le(26), 0, le(26), 0]);
    t.is(u32(r, SK_BUFF.mark), le(6));
    t.is(u32(r, SK_BUFF.priority) | 0, -14);
  });

  test(`${engine}: tc_helpers redirect and change_tail`, (t) => {
    t.is(run('tc_helpers.o', 'redirect_ingress', udp4Frame()).retval, 7);
    t.is(run('tc_helpers.o', 'redirect_bad_flags', udp4Frame()).retval, 2);
    const frame = udp4Frame();
    const r = run('tc_helpers.o', 'change_tail', frame, ctxIn());
    t.deepEqual([0, 1, 2, 3, 4].map((i) => cb(r, i) | 0), [0, frame.length + 6, -22, 0, -22]);
    t.is(u32(r, SK_BUFF.mark), 0);
    t.is(u32(r, SK_BUFF.priority) | 0, -12);
    t.is(r.retval, frame.length - 4);
    t.is(r.dataOut.length, frame.length - 4);
    t.is(r.dataOut[0], 0xaa);
  });

  test(`${engine}: tc_act (SCHED_ACT) with repeat: every run sees the skb the last one left`, (t) => {
    const frame = udp4Frame();
    const r = bpfProgTestRunSkb(loadObjectFile(`${DIR}tc_act.o`).program('act_grow'), { dataIn: frame, ctxIn: ctxIn(), engine, repeat: 5 });
    t.is(r.retval, 3, 'TC_ACT_PIPE');
    t.is(cb(r, 0), 5);
    t.is(r.dataOut.length, frame.length + 10);
    t.deepEqual([...r.dataOut.subarray(frame.length)], new Array(10).fill(0));
  });

  test(`${engine}: sock_filter: LD_ABS and SKF_LL_OFF, cb, and a load past the end ending the filter`, (t) => {
    t.is(run('sock_filter.o', 'keep_udp', udp7()).retval, 28);
    t.is(run('sock_filter.o', 'keep_udp', udp4Frame()).retval, 0);
    t.is(run('sock_filter.o', 'abs_past_end', udp7()).retval, 0);
    const frame = udp4Frame();
    const r = run('sock_filter.o', 'filter_cb', frame, ctxIn());
    t.is(cb(r, 0), frame.length - 14, 'a socket filter sees the packet from the network header');
    t.is(cb(r, 1), 0x0008);
    t.is(r.retval, frame.length - 14 + 17 + 17);
  });
}
