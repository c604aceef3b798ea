// Every case of test/verifier/btf-ptr-cases.ts (BTF pointers, bpf_skc_to_tcp_sock, kfunc calls)
// loaded into Linux with the running kernel's struct offsets and kfunc ids (from
// /sys/kernel/btf/vmlinux): the same verdict as vxo's, and for a refusal the same errno and message
// (and the kernel's second line) in its log. Cases vxo refuses on purpose (stack read before
// written) must be accepted by the kernel. Then the log lines vxo prints for a kfunc program, as
// the kernel prints them.
import { existsSync, readFileSync } from 'node:fs';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { parseBtf } from '../../bpf-vm/btf/btf.ts';
import { kernelVerifyInsns } from '../support/kernel.ts';
import { kernelTest } from '../support/kernel-test.ts';
import { BTF_ACCEPT, BTF_REJECT, btfLayout, SCHED_CLS, type BtfCase, type Layout } from '../verifier/btf-ptr-cases.ts';

const VMLINUX = '/sys/kernel/btf/vmlinux';
let layout: Layout | undefined;
const kernelLayout = (): Layout => (layout ??= btfLayout(parseBtf(readFileSync(VMLINUX), 'vmlinux')));

function load(c: BtfCase, logLevel: 1 | 2 = 1) {
  return kernelVerifyInsns(assemble(c.src(kernelLayout())), { progType: c.type ?? SCHED_CLS, logLevel });
}

const skipWithoutBtf = (t: { log: (s: string) => void; pass: () => void }): boolean => {
  if (existsSync(VMLINUX)) return false;
  t.log(`no ${VMLINUX}: the kernel has no BTF`);
  t.pass();
  return true;
};

for (const c of BTF_ACCEPT) {
  kernelTest(`the kernel accepts: ${c.name}`, (t) => {
    if (skipWithoutBtf(t)) return;
    const k = load(c);
    t.true(k.accepted, k.log.split('\n').slice(-6).join('\n'));
  });
}

for (const c of BTF_REJECT) {
  kernelTest(`the kernel ${c.ours === true ? 'accepts what vxo refuses' : 'refuses'}: ${c.name}`, (t) => {
    if (skipWithoutBtf(t)) return;
    const k = load(c);
    if (c.ours === true) {
      t.true(k.accepted, k.log.split('\n').slice(-6).join('\n'));
      return;
    }
    t.false(k.accepted);
    t.is(k.errno, c.code ?? 'EACCES');
    const msg = c.msg!(kernelLayout());
    const lines = `${msg}\n${c.extra !== undefined ? `${c.extra}\n` : ''}`;
    t.true(`\n${k.log}`.includes(`\n${lines}`), k.log.split('\n').slice(-8).join('\n'));
  });
}

kernelTest('the kernel prints BTF pointers and kfunc calls as vxo does', (t) => {
  if (skipWithoutBtf(t)) return;
  const call = BTF_ACCEPT.find((c) => c.name.startsWith('bpf_sk_assign_tcp_reqsk with a referenced'))!;
  const log = load(call, 2).log;
  t.regex(log, /call bpf_skc_to_tcp_sock#137 +; R0=ptr_or_null_tcp_sock\(id=3,ref_obj_id=2\) refs=2\n/);
  t.regex(log, /if r0 == 0x0 goto pc\+\d+ +; R0=ptr_tcp_sock\(ref_obj_id=2\) refs=2\n/);
  // The kernel marks attrs__sz precise after the call and so prints R0 on a line of its own (vxo:
  // on the call's line, as for helpers; README, deliberate differences).
  t.regex(log, /call bpf_sk_assign_tcp_reqsk#\d+\n(mark_precise[^\n]*\n)*\d+: R0=scalar\(\) refs=2\n/);
  const ctx = load(BTF_ACCEPT.find((c) => c.name.startsWith('bpf_cast_to_kern_ctx'))!, 2).log;
  t.regex(ctx, /call bpf_cast_to_kern_ctx#\d+ +; R0=trusted_ptr_sk_buff\(\)\n/);
  t.regex(ctx, /R2=rcu_ptr_or_null_sock\(id=1\)/);
  t.regex(ctx, /if r2 == 0x0 goto pc\+\d+ +; R2=rcu_ptr_sock\(\)\n/);
  const member = load(BTF_ACCEPT.find((c) => c.name.startsWith('a pointer member read'))!, 2).log;
  t.regex(member, /R2=untrusted_ptr_ipv6_pinfo\(\)/);
});
