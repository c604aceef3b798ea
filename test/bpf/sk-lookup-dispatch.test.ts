// The dispatcher pattern on both engines (a sockmap lookup, bpf_sk_assign, bpf_sk_release), with
// the sockmap holding the socket's cookie and a fake stack resolving it: the lookup's selection,
// the references given back, BPF_PROG_TEST_RUN's cookie in ctx_out; and an XDP program putting a
// looked-up socket into a sockmap.
import test from 'ava';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../../bpf-vm/maps/map.ts';
import { SockMap } from '../../bpf-vm/maps/sockmap.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { SkLookupProgramRunner } from '../../bpf-vm/prog/sk-lookup-runner.ts';
import type { BpfSkLookupKern } from '../../bpf-vm/prog/sock-host.ts';
import { bpfProgTestRunSkLookup } from '../../bpf-vm/prog/test-run-sk-lookup.ts';
import { BPF_PROG_TYPE, type ProgType } from '../../bpf-vm/prog/types.ts';
import { XdpProgramRunner } from '../../bpf-vm/prog/xdp-runner.ts';
import { AF_INET, FakeHost, fakeSock, IPPROTO_TCP, IPPROTO_UDP, TCP_ESTABLISHED, TCP_LISTEN } from './sk-fake-host.ts';

function withMap(src: string, type: number, map: BpfMap): Program {
  const fds = new FdTable();
  const fd = fds.add(map);
  return { name: 'disp', section: 'sec', type: type as ProgType, insns: assemble(src, { mapId: () => fd }), funcs: [], license: 'GPL', fds };
}

/** key 0 of `sm` -> bpf_sk_assign(ctx, sk, 0) -> release; SK_PASS if assigned, SK_DROP otherwise. */
const DISPATCH = `mov %r6, %r1
mov %r1, 0
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(sm)
call 1
jeq %r0, 0, +10
mov %r7, %r0
mov %r1, %r6
mov %r2, %r7
mov %r3, 0
call 124
mov %r8, %r0
mov %r1, %r7
call 86
mov %r0, 1
jeq %r8, 0, +1
mov %r0, 0
exit`;

const ctx = (protocol = IPPROTO_TCP): BpfSkLookupKern => ({
  family: AF_INET, protocol, v4_saddr: 0xc6336401, v4_daddr: 0xc0000201, v6_saddr: { w0: 0, w1: 0, w2: 0, w3: 0 },
  v6_daddr: { w0: 0, w1: 0, w2: 0, w3: 0 }, sport: 40000, dport: 80, ingress_ifindex: 1, selected_sk: null, no_reuseport: false,
});

function sockmap(): SockMap {
  const m = createMap({ name: 'sm', type: BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 });
  if (!(m instanceof SockMap)) throw new Error('not a SockMap');
  return m;
}

for (const engine of ENGINES) {
  test(`${engine}: SK_LOOKUP dispatch through a sockmap: the socket is selected, nothing stays referenced`, (t) => {
    const listener = fakeSock({ protocol: IPPROTO_TCP, state: TCP_LISTEN, srcPort: 8080, cookie: 0x77n, rcuFree: false });
    const host = new FakeHost([listener]);
    const sm = sockmap();
    const r = new SkLookupProgramRunner(withMap(DISPATCH, BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP, sm), { engine, netHost: host });
    const empty = ctx();
    t.is(r.run(empty), 0, 'an empty map: SK_DROP');
    t.is(empty.selected_sk, null);
    t.is(sm.updateCookie(new Uint8Array(4), 0, 0x77n, 0), 0);
    const c = ctx();
    t.is(r.run(c), 1);
    t.is(c.selected_sk, listener);
    t.is(listener.refcnt, 0, 'the lookup\'s reference was released');
    t.is(r.env.socks.inUse, 0);
    const udp = ctx(IPPROTO_UDP);
    t.is(r.run(udp), 0, 'the stack refuses a TCP socket for a UDP lookup');
    t.is(udp.selected_sk, null);
    const tr = bpfProgTestRunSkLookup(withMap(DISPATCH, BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP, sm), {
      ctxIn: testCtx(), engine, netHost: host,
    });
    t.is(tr.retval, 1);
    t.is(new DataView(tr.ctxOut.buffer).getBigUint64(0, true), 0x77n, 'ctx_out cookie: the selected socket\'s');
  });

  test(`${engine}: XDP puts a looked-up socket into a sockmap, then deletes it`, (t) => {
    const est = fakeSock({ protocol: IPPROTO_TCP, state: TCP_ESTABLISHED, srcIp4: 0xc0000201, srcPort: 22, cookie: 0x99n });
    const host = new FakeHost([est]);
    const sm = sockmap();
    const src = (del: boolean): string => `mov %r6, %r1
mov %r2, 0
stxdw [%r10-16], %r2
stxw [%r10-8], %r2
mov32 %r2, 0x010200c0
stxw [%r10-12], %r2
mov %r2, 0x1600
stxh [%r10-6], %r2
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
mov %r1, %r6
call 84
jne %r0, 0, +2
mov %r0, 0xdead
exit
mov %r7, %r0
mov %r1, 1
stxw [%r10-20], %r1
mov %r2, %r10
add %r2, -20
mov %r3, %r7
mov %r4, 0
lddw %r1, map_by_fd(sm)
call 2
mov %r8, %r0
${del ? 'mov %r2, %r10\nadd %r2, -20\nlddw %r1, map_by_fd(sm)\ncall 3\nmov %r8, %r0\n' : ''}mov %r1, %r7
call 86
mov %r0, %r8
exit`;
    const run = (del: boolean): number => {
      const r = new XdpProgramRunner(withMap(src(del), BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, sm), { engine });
      r.env.netHost = host;
      return r.run() | 0;
    };
    t.is(run(false), 0);
    t.is(sm.lookupCookie(Uint8Array.of(1, 0, 0, 0), 0), 0x99n, 'the map holds the socket\'s cookie');
    t.is(est.refcnt, 0);
    t.is(run(true), 0, 'deleted');
    t.is(sm.lookupCookie(Uint8Array.of(1, 0, 0, 0), 0), 0n);
  });
}

/** ctx_in for 198.51.100.1:40000 -> 192.0.2.1:80, TCP. */
function testCtx(): Uint8Array {
  const b = new Uint8Array(72);
  const dv = new DataView(b.buffer);
  dv.setUint32(8, AF_INET, true);
  dv.setUint32(12, IPPROTO_TCP, true);
  dv.setUint32(16, 0xc6336401, false);
  dv.setUint16(36, 40000, false);
  dv.setUint32(40, 0xc0000201, false);
  dv.setUint32(60, 80, true);
  return b;
}
