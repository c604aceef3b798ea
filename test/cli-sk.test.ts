// `vxo prog run` on tc and SK_LOOKUP programs (BPF_PROG_TEST_RUN by program type: __sk_buff and
// bpf_sk_lookup contexts), and `vxo run`'s BPF flags refusing what they cannot mean, before any
// worker starts (exit 2, a message naming the flag).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BPF_SK_LOOKUP, BPF_SK_LOOKUP_SIZE, SK_BUFF, SK_BUFF_SIZE } from '../bpf-vm/prog/bpf-sock.ts';
import { udp64 } from './support/packets.ts';
import { REPO_ROOT } from './support/vm.ts';

const dir = mkdtempSync(join(tmpdir(), 'vxo-cli-sk-'));
const SK = join(REPO_ROOT, 'scenarios/sk');
const pkt = join(dir, 'udp64.bin');
writeFileSync(pkt, udp64());

function vxo(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/vxo.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('prog run: a tc program on a packet, with __sk_buff in and out (mark and cb come back as given)', (t) => {
  const ctx = new Uint8Array(SK_BUFF_SIZE);
  const dv = new DataView(ctx.buffer);
  dv.setUint32(SK_BUFF.mark, 0x1234, true);
  dv.setUint32(SK_BUFF.cb, 0xdeadbeef, true);
  const ctxIn = join(dir, 'skb.bin');
  writeFileSync(ctxIn, ctx);
  const ctxOut = join(dir, 'skb-out.bin');
  const r = vxo(['prog', 'run', join(SK, 'tc_tproxy.o'), '--data-in', pkt, '--ctx-in', ctxIn, '--ctx-out', ctxOut, '--data-out', '-']);
  t.is(r.status, 0, r.stderr);
  // UDP to a port with no service entry: TC_ACT_OK, untouched.
  t.regex(r.stdout, /Return value: 0, duration: \d+ns/);
  const out = readFileSync(ctxOut);
  t.is(out.length, SK_BUFF_SIZE);
  t.is(out.readUInt32LE(SK_BUFF.mark), 0x1234);
  t.is(out.readUInt32LE(SK_BUFF.cb), 0xdeadbeef);
});

test('prog run: an sk_lookup program on a bpf_sk_lookup context, no packet; --json has ctx_out', (t) => {
  const ctx = new Uint8Array(BPF_SK_LOOKUP_SIZE);
  const dv = new DataView(ctx.buffer);
  dv.setUint32(BPF_SK_LOOKUP.family, 2, true);
  dv.setUint32(BPF_SK_LOOKUP.protocol, 6, true);
  dv.setUint32(BPF_SK_LOOKUP.remote_ip4, 0x0100000a, true);
  dv.setUint32(BPF_SK_LOOKUP.local_ip4, 0x070200c0, true);
  dv.setUint16(BPF_SK_LOOKUP.remote_port, 0x3930, true);
  dv.setUint32(BPF_SK_LOOKUP.local_port, 80, true);
  const ctxIn = join(dir, 'skl.bin');
  writeFileSync(ctxIn, ctx);
  const r = vxo(['prog', 'run', join(SK, 'dispatch.o'), '--ctx-in', ctxIn, '--json']);
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { retval: number; ctx_out: string; data_out?: string; maps: Record<string, unknown[]> };
  t.is(j.retval, 1, 'no binding: SK_PASS without a socket');
  t.is(j.data_out, undefined);
  t.is(j.ctx_out.length, 2 * BPF_SK_LOOKUP_SIZE);
  t.is(j.ctx_out.slice(0, 16), '0000000000000000', 'no socket selected: cookie 0');
  t.truthy(j.maps['bindings']);
});

test('prog run: an sk_lookup program refuses --data-in and needs --ctx-in; a tc program needs --data-in', (t) => {
  const a = vxo(['prog', 'run', join(SK, 'dispatch.o'), '--data-in', pkt]);
  t.is(a.status, 2);
  t.regex(a.stderr, /sk_lookup program takes no packet/);
  const b = vxo(['prog', 'run', join(SK, 'dispatch.o')]);
  t.is(b.status, 2);
  t.regex(b.stderr, /needs --ctx-in/);
  const c = vxo(['prog', 'run', join(SK, 'tc_tproxy.o')]);
  t.is(c.status, 2);
  t.regex(c.stderr, /needs --data-in/);
});

test('run: BPF flags that cannot mean anything are refused before a worker starts', (t) => {
  const cases: [string[], RegExp][] = [
    [['--attach', 'guest:tc-sideways:x.o'], /hook tc-sideways/],
    [['--attach', 'vm:xdp:x.o'], /the machine is guest or host/],
    [['--attach', 'host:xdp:x.o'], /XDP attaches to the guest/],
    [['--attach', 'guest'], /MACHINE\[\/DEV\]:HOOK:OBJECT/],
    [['--map', 'guest:m:00:00'], /attach a program to the guest first/],
    [['--bind', 'tcp 10.0.0.0/8'], /'PROTO PREFIX PORT'/],
    [['--bind', 'sctp 10.0.0.0/8 80'], /'PROTO PREFIX PORT'/],
    [['--attach', 'guest:tc-ingress:/no/such.o'], /no such file/],
    [['--attach', 'host/wlan0:tc-ingress:x.o'], /host has no device wlan0/],
    [['--attach', 'host/nic:sk-lookup:x.o'], /only tc-ingress and tc-egress/],
  ];
  for (const [flags, re] of cases) {
    const r = vxo(['run', 'flood', '--kind', 'udp4', '--duration', '0.1', ...flags]);
    t.is(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re, flags.join(' '));
  }
  const tgt = vxo(['run', 'flood', '--kind', 'udp4', '--duration', '0.1', '--target', ':80']);
  t.is(tgt.status, 2);
  t.regex(tgt.stderr, /--target is for netperf/);
  const port = vxo(['run', 'netperf', '--duration', '0.1', '--target', '1.2.3.4:99999']);
  t.is(port.status, 2);
  t.regex(port.stderr, /1\.\.65535/);
});
