// BPF_PROG_TEST_RUN's ctx_in/ctx_out for XDP (struct xdp_md) and the trace sink, through
// bpfProgTestRun on every engine. The rules and errnos are the kernel's (net/bpf/test_run.c,
// bpf_ctx_init, bpf_prog_test_run_xdp, xdp_convert_md_to_buff), each checked against Linux 6.18.
import test from 'ava';
import { ENGINES } from '../bpf-vm/engines.ts';
import { BpfError } from '../bpf-vm/errors.ts';
import { loadObjectFile } from '../bpf-vm/prog/collection.ts';
import { bpfProgTestRun, type TestRunOptions } from '../bpf-vm/prog/test-run.ts';
import { decodeXdpMd, encodeXdpMd, type XdpMd } from '../bpf-vm/prog/xdp-md.ts';
import { udp64 } from './support/packets.ts';
import { asmXdp, REPO_ROOT } from './support/vm.ts';

const frame = udp64();
const md = (m: Partial<XdpMd>): Uint8Array => encodeXdpMd({ data: 0, dataEnd: 0, dataMeta: 0, ingressIfindex: 0, rxQueueIndex: 0, egressIfindex: 0, ...m });
const withMeta = (meta: number[]): Uint8Array => Uint8Array.from([...meta, ...frame]);
// r0 = data - data_meta, + (ingress_ifindex << 8), + (rx_queue_index << 16)
const FIELDS = 'ldxw %r2, [%r1+0]\nldxw %r3, [%r1+8]\nmov %r0, %r2\nsub %r0, %r3\nldxw %r4, [%r1+12]\nlsh %r4, 8\nadd %r0, %r4\nldxw %r5, [%r1+16]\nlsh %r5, 16\nadd %r0, %r5\nexit';

test('xdp_md is 24 little-endian u32s; a shorter ctx_in is zero-extended, a longer one must end in zeros (E2BIG)', (t) => {
  const m = { data: 8, dataEnd: 72, dataMeta: 0, ingressIfindex: 1, rxQueueIndex: 0, egressIfindex: 0 };
  const bytes = encodeXdpMd(m);
  t.is(bytes.length, 24);
  t.deepEqual([...bytes.subarray(0, 8)], [8, 0, 0, 0, 72, 0, 0, 0]);
  t.deepEqual(decodeXdpMd(bytes), m);
  t.deepEqual(decodeXdpMd(bytes.subarray(0, 8)), { ...m, ingressIfindex: 0 });
  t.deepEqual(decodeXdpMd(Uint8Array.from([...bytes, 0, 0, 0, 0])), m);
  t.is(t.throws(() => decodeXdpMd(Uint8Array.from([...bytes, 1])), { instanceOf: BpfError })!.code, 'E2BIG');
  t.is(t.throws(() => decodeXdpMd(new Uint8Array(4097)), { instanceOf: BpfError })!.code, 'E2BIG');
});

for (const engine of ENGINES) {
  const run = (src: string, o: Partial<TestRunOptions> = {}) => bpfProgTestRun(asmXdp(src), { dataIn: frame, engine, ...o });

  test(`${engine}: ctx_in's data is the metadata in front of the frame; ingress and queue reach the program`, (t) => {
    const meta = [1, 2, 3, 4, 5, 6, 7, 8];
    const r = run(FIELDS, { dataIn: withMeta(meta), ctxIn: md({ data: 8, dataEnd: 8 + frame.length, ingressIfindex: 1 }) });
    t.is(r.retval, 8 + (1 << 8), 'data - data_meta = 8, ingress_ifindex 1, rx_queue_index 0');
    t.deepEqual([...r.dataOut], [...meta, ...frame], 'data_out starts at data_meta');
    t.deepEqual(decodeXdpMd(r.ctxOut!), { data: 8, dataEnd: 8 + frame.length, dataMeta: 0, ingressIfindex: 1, rxQueueIndex: 0, egressIfindex: 0 });
    // ingress_ifindex 0 keeps the default queue: lo's queue 0, as the program sees it.
    t.is(run(FIELDS, { ctxIn: md({ dataEnd: frame.length }) }).retval, 1 << 8);
  });

  test(`${engine}: ctx_out reports data and data_end after the program moved them, relative to data_meta`, (t) => {
    // bpf_xdp_adjust_head(ctx, 4): the frame loses 4 bytes, the metadata moves with data.
    const r = run('mov %r2, 4\ncall 44\nmov %r0, 2\nexit', { dataIn: withMeta([9, 9, 9, 9]), ctxIn: md({ data: 4, dataEnd: 4 + frame.length }) });
    t.deepEqual(decodeXdpMd(r.ctxOut!), { data: 4, dataEnd: frame.length, dataMeta: 0, ingressIfindex: 0, rxQueueIndex: 0, egressIfindex: 0 });
    t.deepEqual([...r.dataOut], [9, 9, 9, 9, ...frame.subarray(4)]);
    // Without ctx_in, ctxOut: true reports the default context after the run.
    const d = run('mov %r2, 4\ncall 44\nmov %r0, 2\nexit', { ctxOut: true });
    t.deepEqual(decodeXdpMd(d.ctxOut!), { data: 0, dataEnd: frame.length - 4, dataMeta: 0, ingressIfindex: 0, rxQueueIndex: 0, egressIfindex: 0 });
    t.is(run('mov %r0, 2\nexit').ctxOut, undefined, 'no ctx asked, none given');
  });

  test(`${engine}: ctx_in violations get the kernel's errno`, (t) => {
    const bad = (m: Partial<XdpMd>, code: string, msg: RegExp, dataIn = frame) => {
      const e = t.throws(() => run('mov %r0, 2\nexit', { dataIn, ctxIn: md(m) }), { instanceOf: BpfError });
      t.is(e!.code, code as BpfError['code'], e!.message);
      t.regex(e!.message, msg);
    };
    const n = frame.length;
    bad({ dataEnd: n, dataMeta: 4 }, 'EINVAL', /data_meta 4 must be 0/);
    bad({ dataEnd: n + 1 }, 'EINVAL', /data_end 61 is past the 60 bytes of data_in/);
    bad({ data: 8, dataEnd: 4 }, 'EINVAL', /data 8 is past data_end 4/);
    bad({ data: 3, dataEnd: n }, 'EINVAL', /multiple of 4/);
    bad({ data: 220, dataEnd: 280 }, 'EINVAL', /at most 216/, new Uint8Array(280));
    bad({ data: 52, dataEnd: n }, 'EINVAL', /less than 14 bytes of frame/);
    // A linear part shorter than data_in: the kernel's fragments, which vxo does not model.
    bad({ dataEnd: n - 4 }, 'EINVAL', /must be the length of data_in \(60\).*multi-buffer/);
    bad({ dataEnd: n, egressIfindex: 2 }, 'EINVAL', /egress_ifindex 2 must be 0/);
    bad({ dataEnd: n, rxQueueIndex: 1 }, 'EINVAL', /rx_queue_index 1 needs an ingress_ifindex/);
    bad({ dataEnd: n, ingressIfindex: 1, rxQueueIndex: 1 }, 'EINVAL', /lo has 1 receive queue/);
    bad({ dataEnd: n, ingressIfindex: 99 }, 'ENODEV', /ingress_ifindex 99: no such device/);
  });

  test(`${engine}: bpf_trace_printk lines reach the trace sink, one per call, in order`, (t) => {
    const lines: string[] = [];
    // "%d!\n" on the stack; then "hi" with no argument.
    const src = [
      'stw [%r10-8], 0x0a216425', 'stb [%r10-4], 0', 'mov %r1, %r10', 'add %r1, -8', 'mov %r2, 5', 'mov %r3, -7', 'call 6',
      'stw [%r10-8], 0x6968', 'mov %r1, %r10', 'add %r1, -8', 'mov %r2, 3', 'call 6', 'mov %r0, 2', 'exit',
    ].join('\n');
    t.is(run(src, { trace: (l) => lines.push(l), repeat: 2 }).retval, 2);
    t.deepEqual(lines, ['-7!\n', 'hi', '-7!\n', 'hi']);
  });

  test(`${engine}: the trace_printk fixture prints the frame's length and EtherType`, (t) => {
    const lines: string[] = [];
    const coll = loadObjectFile(`${REPO_ROOT}test/fixtures/cli/trace_printk.o`);
    bpfProgTestRun(coll.program(), { dataIn: frame, engine, trace: (l) => lines.push(l) });
    t.deepEqual(lines, ['vxo: frame of 60 bytes', 'vxo: ethertype 0x0800, rx queue 0']);
  });
}
