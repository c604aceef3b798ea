// tc (SCHED_CLS) and socket filter programs against the kernel (npm run test:kernel): vxo's
// bpfProgTestRunSkb and the kernel's BPF_PROG_TEST_RUN (bpf_prog_test_run_skb) on the same objects
// and inputs give the same return value, data_out and ctx_out (struct __sk_buff), on both engines.
// The kernel's run goes through `bpftool prog run ... ctx_in/ctx_out`, each object loaded afresh.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import { SK_BUFF, SK_BUFF_SIZE } from '../../bpf-vm/prog/bpf-sock.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { bpfProgTestRunSkb } from '../../bpf-vm/prog/test-run-skb.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { kernelTest } from '../support/kernel-test.ts';
import { kernelVerify } from '../support/kernel.ts';
import { arpFrame, ethernet, ipv4, tcp4Frame, udp, udp4Frame, udp6Frame } from '../support/packets.ts';

const DIR = fileURLToPath(new URL('../fixtures/tc/', import.meta.url));

interface KernelSkbRun {
  retval: number;
  dataOut: Uint8Array;
  ctxOut: Uint8Array | undefined;
}

/** bpftool prog loadall + prog run with ctx_in/ctx_out, the pins removed afterwards. */
function kernelRunSkb(obj: string, program: string, dataIn: Uint8Array, ctxIn?: Uint8Array, repeat = 1): KernelSkbRun {
  const base = join('/sys/fs/bpf', `vxo-tc-${process.pid}-${Math.random().toString(16).slice(2, 10)}`);
  const files = mkdtempSync(join(tmpdir(), 'vxo-tc-'));
  try {
    mkdirSync(base);
    const load = spawnSync('bpftool', ['prog', 'loadall', obj, join(base, 'p'), 'pinmaps', join(base, 'm')], { encoding: 'utf8' });
    if (load.status !== 0) throw new Error(`bpftool prog loadall ${obj}: ${load.stderr}`);
    if (!readdirSync(join(base, 'p')).includes(program)) throw new Error(`${obj} has no program ${program}`);
    writeFileSync(join(files, 'in'), dataIn);
    const args = ['prog', 'run', 'pinned', join(base, 'p', program), 'data_in', join(files, 'in'), 'data_out', join(files, 'out'), 'repeat', String(repeat)];
    if (ctxIn !== undefined) {
      writeFileSync(join(files, 'ctx'), ctxIn);
      args.push('ctx_in', join(files, 'ctx'), 'ctx_out', join(files, 'ctxout'));
    }
    const run = spawnSync('bpftool', args, { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`bpftool ${args.join(' ')}: ${run.stderr}`);
    const m = /Return value: (\d+)/.exec(run.stdout);
    if (m === null) throw new Error(`unexpected bpftool output: ${run.stdout}`);
    const ctxOut = existsSync(join(files, 'ctxout')) ? new Uint8Array(readFileSync(join(files, 'ctxout'))) : undefined;
    const dataOut = existsSync(join(files, 'out')) ? new Uint8Array(readFileSync(join(files, 'out'))) : new Uint8Array(0);
    return { retval: Number(m[1]), dataOut, ctxOut };
  } finally {
    rmSync(base, { recursive: true, force: true });
    rmSync(files, { recursive: true, force: true });
  }
}

function skbCtx(fields: Partial<Record<'mark' | 'priority' | 'ingress_ifindex' | 'wire_len' | 'gso_segs' | 'gso_size', number>> & { cb?: number[]; tstamp?: bigint } = {}, hwtstamp = 0n): Uint8Array {
  const b = new Uint8Array(SK_BUFF_SIZE);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(SK_BUFF.hwtstamp, hwtstamp, true);
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'cb') (v as number[]).forEach((x, i) => dv.setUint32(SK_BUFF.cb + 4 * i, x, true));
    else if (k === 'tstamp') dv.setBigUint64(SK_BUFF.tstamp, v as bigint, true);
    else dv.setUint32(SK_BUFF[k as 'mark'], v as number, true);
  }
  return b;
}

/** A broadcast ARP request (pkt_type PACKET_BROADCAST) and an 802.3 frame with an LLC header (protocol ETH_P_802_2). */
const bcastArp = (): Uint8Array => arpFrame();
const llc = (): Uint8Array => {
  const f = new Uint8Array(60);
  f.fill(0x11, 0, 12);
  f[12] = 0; f[13] = 46;
  f[14] = 0x42; f[15] = 0x42; f[16] = 0x03;
  return f;
};
const udp7 = (): Uint8Array => ethernet(0x0800, ipv4(17, udp(new Uint8Array([1, 2, 3, 4, 5, 6]), { srcPort: 1234, dstPort: 7 })));

interface Case {
  obj: string;
  program: string;
  dataIn: Uint8Array;
  ctxIn?: Uint8Array;
  repeat?: number;
}

const CASES: Case[] = [
  { obj: 'tc_ctx.o', program: 'ctx_fields', dataIn: udp4Frame(), ctxIn: skbCtx({ mark: 5, priority: 6, cb: [1, 2, 3, 4, 5], tstamp: 123456789n, gso_segs: 3, gso_size: 1400 }) },
  { obj: 'tc_ctx.o', program: 'ctx_fields', dataIn: tcp4Frame(), ctxIn: skbCtx({ wire_len: 200, ingress_ifindex: 1 }) },
  { obj: 'tc_ctx.o', program: 'ctx_fields', dataIn: udp4Frame() },
  { obj: 'tc_ctx.o', program: 'ctx_times', dataIn: udp4Frame(), ctxIn: skbCtx({ tstamp: 0x123456789abcdef0n, wire_len: 1500, gso_size: 9 }, 0xfedcba9876543210n) },
  { obj: 'tc_ctx.o', program: 'ctx_times', dataIn: udp4Frame() },
  { obj: 'tc_ctx.o', program: 'ctx_packet', dataIn: udp4Frame(), ctxIn: skbCtx() },
  { obj: 'tc_ctx.o', program: 'ctx_cb_wide', dataIn: udp4Frame(), ctxIn: skbCtx({ cb: [0x11223344, 0x55667788, 0, 0, 9] }) },
  { obj: 'tc_helpers.o', program: 'rewrite_port', dataIn: udp4Frame(), ctxIn: skbCtx() },
  { obj: 'tc_helpers.o', program: 'csum_mangled', dataIn: udp4Frame(), ctxIn: skbCtx() },
  { obj: 'tc_helpers.o', program: 'helper_errors', dataIn: udp4Frame(), ctxIn: skbCtx() },
  { obj: 'tc_helpers.o', program: 'load_bytes', dataIn: udp4Frame(), ctxIn: skbCtx() },
  { obj: 'tc_helpers.o', program: 'redirect_ingress', dataIn: udp4Frame(), ctxIn: skbCtx() },
  { obj: 'tc_helpers.o', program: 'redirect_bad_flags', dataIn: udp4Frame() },
  { obj: 'tc_helpers.o', program: 'change_tail', dataIn: udp4Frame(), ctxIn: skbCtx() },
  { obj: 'sock_filter.o', program: 'keep_udp', dataIn: udp7(), ctxIn: skbCtx() },
  { obj: 'sock_filter.o', program: 'keep_udp', dataIn: udp4Frame() },
  { obj: 'sock_filter.o', program: 'abs_past_end', dataIn: udp7() },
  { obj: 'sock_filter.o', program: 'filter_cb', dataIn: udp4Frame(), ctxIn: skbCtx({ cb: [0, 0, 0, 0, 7] }) },
  { obj: 'sock_filter.o', program: 'filter_cb', dataIn: udp6Frame() },
  { obj: 'tc_ctx.o', program: 'ctx_fields', dataIn: udp6Frame(), ctxIn: skbCtx() },
  { obj: 'tc_ctx.o', program: 'ctx_fields', dataIn: bcastArp(), ctxIn: skbCtx() },
  { obj: 'tc_ctx.o', program: 'ctx_fields', dataIn: llc(), ctxIn: skbCtx() },
  { obj: 'tc_act.o', program: 'act_grow', dataIn: udp4Frame(), ctxIn: skbCtx(), repeat: 5 },
  { obj: 'tc_act.o', program: 'act_grow', dataIn: udp4Frame({ eth: { dst: '00:00:00:00:00:00' } }), ctxIn: skbCtx() },
];

for (const file of ['tc_ctx.o', 'tc_helpers.o', 'sock_filter.o', 'tc_act.o']) {
  kernelTest(`${file}: the kernel and vxo accept every program`, (t) => {
    t.true(kernelVerify(`${DIR}${file}`).accepted);
    const coll = loadObjectFile(`${DIR}${file}`);
    for (const name of coll.programs.keys()) t.notThrows(() => verifyProgram(coll.program(name)), name);
  });
}

for (const [i, c] of CASES.entries()) {
  kernelTest(`#${i} ${c.obj} ${c.program} on ${c.dataIn.length} bytes${c.ctxIn ? ' with ctx_in' : ''}${c.repeat ? ` repeated ${c.repeat} times` : ''}: retval, data_out and ctx_out as the kernel's`, (t) => {
    const k = kernelRunSkb(`${DIR}${c.obj}`, c.program, c.dataIn, c.ctxIn, c.repeat);
    for (const engine of ENGINES) {
      const prog = loadObjectFile(`${DIR}${c.obj}`).program(c.program);
      const r = bpfProgTestRunSkb(prog, { dataIn: c.dataIn, ctxIn: c.ctxIn, engine, repeat: c.repeat });
      t.is(r.retval, k.retval, `${engine} retval`);
      t.is(toHex(r.dataOut), toHex(k.dataOut), `${engine} data_out`);
      t.is(r.ctxOut === undefined ? '' : toHex(r.ctxOut), k.ctxOut === undefined ? '' : toHex(k.ctxOut), `${engine} ctx_out`);
    }
  });
}
