// The socket lookup helpers from XDP against a live stack, both engines: scenarios/sk's
// xdp_sk_firewall.o (bpf_skc_lookup_tcp / bpf_sk_lookup_udp on every frame, released on every
// path) run with b's NetBpfHost on frames arriving at b: a frame some socket of b would take
// passes, one no socket would take is dropped — and SK_LOOKUP programs attached to b count, since
// the helpers' lookups run them as the stack's own do.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { XdpProgramRunner } from '../../bpf-vm/prog/xdp-runner.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import { SK_PASS, bpf_netns_link_detach, netns_bpf_link_create, type BpfSkLookupKern } from '../../net/core/sk-lookup.ts';
import { bpf_sock_refs_held } from '../../net/core/sock-refcnt.ts';
import { AF_INET, AF_INET6 } from '../../net/core/socket-constants.ts';
import * as P from '../support/packets.ts';
import { A, B, established, tcp4, tcp6, udp4, udp6, victim } from './support/frames.ts';

const FIREWALL = fileURLToPath(new URL('../../scenarios/sk/xdp_sk_firewall.o', import.meta.url));
const XDP_DROP = 1;
const XDP_PASS = 2;

for (const engine of ENGINES) {
  test(`xdp_sk_firewall.o (${engine}) with b's host: frames b's sockets would take pass, the others drop`, (t) => {
    const v = victim();
    const host = net_bpf_host(v.t.b);
    const runner = new XdpProgramRunner(loadObjectFile(FIREWALL).program(), { engine, netHost: host });
    const buf = new Uint8Array(4096);
    const verdict = (frame: Uint8Array): number => {
      buf.set(frame, 256);
      runner.xdp.prepare(buf, 0, 4096, 256, frame.length);
      runner.xdp.ingressIfindex = v.t.devb.ifindex;
      return runner.run();
    };
    const { cport } = established(v, AF_INET);
    const { cport: cport6 } = established(v, AF_INET6);
    t.is(verdict(tcp4({ dport: 80, flags: P.TCP_SYN }, A, B)), XDP_PASS, 'SYN to the listener');
    t.is(verdict(tcp6({ dport: 80, flags: P.TCP_SYN }, A, B)), XDP_PASS, 'SYN to the v6 listener');
    t.is(verdict(tcp4({ dport: 81, flags: P.TCP_SYN }, A, B)), XDP_DROP, 'no listener on 81');
    t.is(verdict(tcp6({ dport: 81, flags: P.TCP_SYN }, A, B)), XDP_DROP);
    t.is(verdict(tcp4({ sport: cport, dport: 80, flags: P.TCP_ACK }, A, B)), XDP_PASS, 'the established connection');
    t.is(verdict(tcp6({ sport: cport6, dport: 80, flags: P.TCP_ACK }, A, B)), XDP_PASS);
    t.is(verdict(udp4({ dport: 5000 }, A, B)), XDP_PASS, 'the UDP socket');
    t.is(verdict(udp6({ dport: 5000 }, A, B)), XDP_PASS);
    t.is(verdict(udp4({ dport: 5001 }, A, B)), XDP_DROP, 'no UDP socket on 5001');
    t.is(verdict(udp6({ dport: 5001 }, A, B)), XDP_DROP);
    t.is(bpf_sock_refs_held(v.t.b), 0, 'the established hits were released');

    // A dispatcher on b that serves port 81 with the port-80 listener: the firewall lets 81 in.
    const link = netns_bpf_link_create(v.t.b, {
      run(ctx: BpfSkLookupKern): number {
        if (ctx.dport === 81) host.sk_assign_lookup(ctx, ctx.family === AF_INET ? v.l4.sk : v.l6.sk, 0n);
        return SK_PASS;
      },
    });
    if (typeof link === 'number') return t.fail(`link ${link}`);
    t.is(verdict(tcp4({ dport: 81, flags: P.TCP_SYN }, A, B)), XDP_PASS, 'SK_LOOKUP ran inside the helper');
    t.is(verdict(tcp6({ dport: 81, flags: P.TCP_SYN }, A, B)), XDP_PASS);
    bpf_netns_link_detach(link);

    // Another machine's host sees none of b's sockets.
    const other = new XdpProgramRunner(loadObjectFile(FIREWALL).program(), { engine, netHost: net_bpf_host(v.t.a) });
    const f = tcp4({ dport: 80, flags: P.TCP_SYN }, A, B);
    buf.set(f, 256);
    other.xdp.prepare(buf, 0, 4096, 256, f.length);
    t.is(other.run(), XDP_DROP, 'a\'s host: no listener on 80 there');
    v.stop();
  });
}
