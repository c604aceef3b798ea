// A socket filter on a UDP socket and __sk_buff.cb (bpf_prog_run_save_cb): the program sees the five
// words zeroed, what it writes there is gone after it returns, and the skb keeps what it had before
// (a tc program's cb[] survives the filter), on both engines, whether the program passes, trims,
// drops or faults. sk_filter_trim_cap called directly on one skb; one thread.
import test from 'ava';
import { ENGINES, sockProg, threeHosts, udpSocket } from './cls-bpf-progs.ts';
import { sk_attach_bpf, sk_filter, sk_filter_trim_cap } from '../../net/core/sk-filter.ts';
import { alloc_skb, consume_skb, skb_put } from '../../net/core/skbuff.ts';

// cb[0..4] at __sk_buff offsets 48..64. The program stores 7 into every word, then returns 100 when
// cb[0] read 0 before its stores (pass, trimmed to 100 bytes), else 0 (drop).
const WRITER = `
  ldxw %r2, [%r1+48]
  mov32 %r3, 7
  stxw [%r1+48], %r3
  stxw [%r1+52], %r3
  stxw [%r1+56], %r3
  stxw [%r1+60], %r3
  stxw [%r1+64], %r3
  mov %r0, 0
  jne %r2, 0, out
  mov %r0, 100
out:
  exit`;

for (const engine of ENGINES) {
  test(`[${engine}] the filter sees cb zeroed, its writes there are undone, the skb's own cb words come back`, (t) => {
    const h = threeHosts();
    const s = udpSocket(h.a);
    t.is(sk_attach_bpf(s.sk, sockProg(WRITER), { engine }), 0);
    for (const before of [[0, 0, 0, 0, 0], [5, -1, 0x7fffffff, -0x80000000, 1]]) {
      const skb = alloc_skb(512);
      skb_put(skb, 300);
      skb.bpf_cb_words.set(before);
      t.is(sk_filter_trim_cap(s.sk, skb, 8), 0, 'passed: it read cb[0] as 0');
      t.is(skb.len, 100, 'trimmed to what the program returned');
      t.deepEqual([...skb.bpf_cb_words], before);
      consume_skb(skb);
    }
  });

  test(`[${engine}] a program that faults: dropped (-EPERM), cb restored all the same`, (t) => {
    const h = threeHosts();
    const s = udpSocket(h.a);
    // Writes cb[0], then reads far past the packet through a scalar pointer: a runtime fault.
    const faulty = 'mov32 %r3, 9\nstxw [%r1+48], %r3\nmov %r2, 0\nldxw %r0, [%r2+0]\nexit';
    const r = sk_attach_bpf(s.sk, sockProg(faulty), { engine, verify: false });
    t.is(r, 0);
    const skb = alloc_skb(512);
    skb_put(skb, 40);
    skb.bpf_cb_words.set([1, 2, 3, 4, 5]);
    t.is(sk_filter_trim_cap(s.sk, skb, 8), -1);
    t.is(sk_filter(s.sk)?.stats.faults, 1);
    t.deepEqual([...skb.bpf_cb_words], [1, 2, 3, 4, 5]);
    consume_skb(skb);
  });
}
