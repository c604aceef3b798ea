// btf_struct_access over vxo's kernel BTF: scalars, pointers to structs (PTR_TO_BTF_ID of the
// pointee), and the kernel's refusals (beyond the struct, beyond a member, a partial pointer, a hole).
import test from 'ava';
import { btf_struct_access } from '../../bpf-vm/btf/btf-struct-access.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';

const k = kernelBtf();
const id = (name: string): number => k.typeId(name, 'struct')!;
const off = (s: string, path: string): number => k.struct(s)!.fields.find((f) => f.path === path)!.offset;
const access = (s: string, o: number, size: number) => btf_struct_access(k.btf, id(s), o, size);

test('scalars: a field, a narrower read inside one, a bitfield byte, an array element, through embedded parents', (t) => {
  t.deepEqual(access('tcp_sock', off('tcp_sock', 'snd_cwnd'), 4), { kind: 'scalar' });
  t.deepEqual(access('tcp_sock', off('tcp_sock', 'snd_cwnd') + 2, 2), { kind: 'scalar' });
  t.deepEqual(access('tcp_sock', off('tcp_sock', 'inet_conn.icsk_inet.sk.__sk_common.skc_num'), 2), { kind: 'scalar' });
  t.deepEqual(access('sock_common', 19, 1), { kind: 'scalar' }, 'the byte of skc_reuse..skc_net_refcnt');
  t.deepEqual(access('__sk_buff', 48 + 8, 4), { kind: 'scalar' }, 'cb[2]');
  t.deepEqual(access('tcp_sock', 0, 8), { kind: 'scalar' }, 'offset 0 dives into the embedded structs');
});

test('pointer members: PTR_TO_BTF_ID of the pointee, untrusted through a many-member union', (t) => {
  t.deepEqual(access('request_sock', off('request_sock', 'sk'), 8), { kind: 'ptr', btfId: id('sock'), untrusted: false, member: 'sk' });
  t.deepEqual(access('request_sock', off('request_sock', '__req_common.skc_listener'), 8), { kind: 'scalar' },
    'the union\'s first overlapping member wins, as in the kernel: skc_flags, a scalar');
  t.deepEqual(access('__sk_buff', 168, 8), { kind: 'ptr', btfId: id('bpf_sock'), untrusted: false, member: 'sk' }, 'a one-member union (__bpf_md_ptr) stays trusted');
  t.like(access('sk_buff', off('sk_buff', 'sk'), 8), { kind: 'ptr', btfId: id('sock'), member: 'sk' });
  t.like(access('sk_buff', off('sk_buff', 'head'), 8), { kind: 'ptr', btfId: 0, untrusted: true, member: 'head' }, 'a pointer to a scalar');
});

test('refusals carry the kernel\'s messages and errnos', (t) => {
  const tcp = k.struct('tcp_sock')!;
  t.deepEqual(access('tcp_sock', tcp.size - 2, 4), { kind: 'error', errno: 13, message: `access beyond struct tcp_sock at off ${tcp.size - 2} size 4` });
  const sk = off('request_sock', 'sk');
  t.deepEqual(access('request_sock', sk, 4), { kind: 'error', errno: 13, message: `cannot access ptr member sk with moff ${sk} in struct request_sock with off ${sk} size 4` });
  t.deepEqual(access('sock', 20, 8), { kind: 'error', errno: 13, message: 'access beyond the end of member skc_bound_dev_if (mend:24) in struct sock_common with off 20 size 8' });
  const hole = off('sock', 'sk_userlocks') + 1;
  t.is(off('sock', 'sk_flags'), hole + 1);
  t.deepEqual(access('sock', hole, 1), { kind: 'error', errno: 22, message: `struct sock doesn't have field at offset ${hole}` });
  t.deepEqual(access('__sk_buff', 52, 8), { kind: 'error', errno: 13, message: 'access beyond the end of member cb (mend:56) in struct __sk_buff with off 52 size 8' });
  t.like(btf_struct_access(k.btf, k.typeId('u32')!, 0, 4), { kind: 'error', errno: 22, message: 'Type \'unsigned int\' is not a struct' });
});
