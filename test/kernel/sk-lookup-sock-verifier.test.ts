// Every socket verifier case of test/verifier/sock-cases.ts loaded into Linux as well (with
// BPF_SK_LOOKUP as expected attach type for SK_LOOKUP): the same verdict, and for a refusal the
// same errno and vxo's message as a line of the kernel's log; then every offset and size of each
// socket view and of the SK_LOOKUP context.
import { verifyProgram, VerifierError } from '../../bpf-vm/verifier/index.ts';
import { kernelTest } from '../support/kernel-test.ts';
import { SOCK_ACCEPT, SOCK_REJECT, type SockCase } from '../verifier/sock-cases.ts';
import { caseProgram } from '../verifier/support.ts';
import { kernelSkLoad } from './sk-lookup-kernel.ts';

function load(c: SockCase) {
  const p = caseProgram(c);
  return kernelSkLoad(p.insns, { progType: c.type ?? 6, maps: Object.values(c.maps ?? {}) });
}

for (const c of SOCK_ACCEPT) {
  kernelTest(`the kernel accepts: ${c.name}`, (t) => {
    const k = load(c);
    t.true(k.accepted, k.log.split('\n').slice(-6).join('\n'));
  });
}

for (const c of SOCK_REJECT) {
  kernelTest(`the kernel refuses: ${c.name}`, (t) => {
    const k = load(c);
    t.false(k.accepted);
    t.is(k.errno, c.code ?? 'EACCES');
    t.true(k.log.includes(`\n${c.msg}\n`) || k.log.startsWith(`${c.msg}\n`), k.log.split('\n').slice(-8).join('\n'));
  });
}

// Every offset and size of each socket view and of struct bpf_sk_lookup: the kernel's verdict is vxo's.
const LDX: Readonly<Record<number, string>> = { 1: 'ldxb', 2: 'ldxh', 4: 'ldxw', 8: 'ldxdw' };
const SWEEPS: readonly { name: string; type: number; end: number; body: (ldx: string, off: number) => string }[] = [
  { name: 'struct bpf_sock (sk_lookup_tcp)', type: 6, end: 84, body: (l, o) => sweepSock(84, `${l} %r1, [%r7+${o}]`) },
  { name: 'sock_common (skc_lookup_tcp)', type: 6, end: 84, body: (l, o) => sweepSock(99, `${l} %r1, [%r7+${o}]`) },
  { name: 'struct bpf_tcp_sock (tc, bpf_tcp_sock)', type: 3, end: 116, body: (l, o) => sweepSock(84, `mov %r1, %r7\ncall 96\njeq %r0, 0, +1\n${l} %r1, [%r0+${o}]`) },
  { name: 'struct bpf_sk_lookup', type: 30, end: 76, body: (l, o) => `${l} %r2, [%r1+${o}]\nmov %r0, 1\nexit` },
];

function sweepSock(helper: number, use: string): string {
  return `mov %r6, %r1\nmov %r2, 0\nstxdw [%r10-16], %r2\nstxw [%r10-8], %r2\nmov %r2, %r10\nadd %r2, -16\nmov %r3, 12\nmov %r4, -1\nmov %r5, 0
mov %r1, %r6\ncall ${helper}\njne %r0, 0, +2\nmov %r0, 0\nexit\nmov %r7, %r0\n${use}\nmov %r1, %r7\ncall 86\nmov %r0, 0\nexit`;
}

for (const s of SWEEPS) {
  kernelTest(`${s.name}: every offset and size, the kernel's verdict and message`, (t) => {
    for (let off = 0; off < s.end; off++) {
      for (const size of [1, 2, 4, 8]) {
        const c = { name: `${off}/${size}`, src: s.body(LDX[size]!, off), type: s.type };
        const k = load(c);
        let vxo: string | undefined;
        try { verifyProgram(caseProgram(c)); } catch (e) { vxo = e instanceof VerifierError ? e.message : String(e); }
        t.is(vxo === undefined, k.accepted, `${s.name} off=${off} size=${size}: vxo ${vxo ?? 'accepts'}`);
        if (vxo !== undefined && !k.accepted) t.true(`\n${k.log}`.includes(`\n${vxo}\n`), `off=${off} size=${size}: ${vxo}`);
      }
    }
  });
}
