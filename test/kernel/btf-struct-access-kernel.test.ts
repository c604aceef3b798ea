// btf_struct_access's verdicts and messages against the kernel verifier: a tc program looks a
// socket up, casts it with bpf_skc_to_tcp_sock and loads through the PTR_TO_BTF_ID at an offset of
// Linux's own struct tcp_sock; vxo's walk over this machine's /sys/kernel/btf/vmlinux must predict
// the kernel's answer (accepted, or the same message). Same code runs over vxo's kernel BTF, so the
// messages vxo's verifier gives are the kernel's.
import { existsSync, readFileSync } from 'node:fs';
import { parseBtf, type Btf } from '../../bpf-vm/btf/btf.ts';
import { btf_struct_access } from '../../bpf-vm/btf/btf-struct-access.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { kernelVerifyInsns } from '../support/kernel.ts';
import { kernelTest } from '../support/kernel-test.ts';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const SIZE_CODE: Record<number, number> = { 1: 0x71, 2: 0x69, 4: 0x61, 8: 0x79 };

/** A tc program: skc_lookup_tcp, skc_to_tcp_sock, one load of `size` bytes at `off`, release. */
function program(off: number, size: number): { code: number; dst: number; src: number; off: number; imm: number }[] {
  const i = (code: number, dst: number, src: number, o: number, imm: number) => ({ code, dst, src, off: o, imm });
  return [
    i(0xbf, 6, 1, 0, 0), // r6 = ctx
    i(0x7a, 10, 0, -16, 0), // tuple = {}
    i(0x62, 10, 0, -8, 0),
    i(0xbf, 2, 10, 0, 0),
    i(0x07, 2, 0, 0, -16),
    i(0xbf, 1, 6, 0, 0),
    i(0xb7, 3, 0, 0, 12),
    i(0xb7, 4, 0, 0, -1), // BPF_F_CURRENT_NETNS
    i(0xb7, 5, 0, 0, 0),
    i(0x85, 0, 0, 0, 99), // bpf_skc_lookup_tcp
    i(0x15, 0, 0, 7, 0), // if !sk goto out
    i(0xbf, 7, 0, 0, 0),
    i(0xbf, 1, 0, 0, 0),
    i(0x85, 0, 0, 0, 137), // bpf_skc_to_tcp_sock
    i(0x15, 0, 0, 1, 0),
    i(SIZE_CODE[size]!, 1, 0, off, 0), // the load under test
    i(0xbf, 1, 7, 0, 0),
    i(0x85, 0, 0, 0, 86), // bpf_sk_release
    i(0xb7, 0, 0, 0, 0), // out:
    i(0x95, 0, 0, 0, 0),
  ];
}

/** Byte offset of a member path (anonymous members searched) in struct `id`. */
function offsetOf(btf: Btf, id: number, path: readonly string[]): number | undefined {
  if (path.length === 0) return 0;
  const t = btf.type(btf.skipQualifiers(id));
  if (t?.kind !== 'struct' && t?.kind !== 'union') return undefined;
  for (const m of t.members) {
    if (m.name === path[0]) {
      const rest = offsetOf(btf, m.type, path.slice(1));
      if (rest !== undefined) return m.bitOffset / 8 + rest;
    } else if (m.name === '') {
      const inner = offsetOf(btf, m.type, path);
      if (inner !== undefined) return m.bitOffset / 8 + inner;
    }
  }
  return undefined;
}

kernelTest('the kernel verifier and vxo\'s btf_struct_access agree on loads through a struct tcp_sock pointer', (t) => {
  if (!existsSync(VMLINUX)) {
    t.log('skipped: no', VMLINUX);
    t.pass();
    return;
  }
  const linux = parseBtf(readFileSync(VMLINUX), VMLINUX);
  const tcp = linux.types.find((x) => x?.kind === 'struct' && x.name === 'tcp_sock')!;
  if (tcp.kind !== 'struct') return;
  const at = (p: string): number => offsetOf(linux, tcp.id, p.split('.'))!;
  const common = 'inet_conn.icsk_inet.sk.__sk_common';
  const cases: [string, number, number][] = [
    ['snd_cwnd', at('snd_cwnd'), 4],
    ['inside snd_cwnd', at('snd_cwnd') + 2, 2],
    ['skc_num', at(`${common}.skc_num`), 2],
    ['past the struct', tcp.size, 4],
    ['a u64 over an int member', at(`${common}.skc_bound_dev_if`), 8],
    ['half a pointer', at(`${common}.skc_prot`), 4],
    ['a whole pointer', at(`${common}.skc_prot`), 8],
    ['the rx_opt bitfield unit', at('rx_opt.rcv_tsecr') + 4, 2],
  ];
  for (const [what, off, size] of cases) {
    const want = btf_struct_access(linux, tcp.id, off, size);
    const got = kernelVerifyInsns(program(off, size), { progType: BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS });
    if (want.kind === 'error') {
      t.false(got.accepted, `${what}: the kernel accepted off ${off} size ${size}`);
      t.true(got.log.includes(want.message), `${what}: want "${want.message}" in\n${got.log.slice(-600)}`);
    } else {
      t.true(got.accepted, `${what} (off ${off} size ${size}): ${got.log.slice(-600)}`);
    }
  }
});
