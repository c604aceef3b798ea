// `npx tsx bench/sk-lookup-main.ts`: the SK_LOOKUP configurations and the lookup helpers alone.
import { benchLookupHelpers, benchSkLookupConfigs } from './net-sk-lookup.ts';

for (const f of [4, 6] as const) {
  console.log(`udp${f} receive path, ns per packet (median of 9 interleaved rounds of 100k):`);
  for (const r of benchSkLookupConfigs(f)) console.log(`  ${r.config.padEnd(48)} ${r.nsPerPacket.toFixed(0).padStart(5)} ns  ${r.deltaPct >= 0 ? '+' : ''}${r.deltaPct.toFixed(1)}%  (read ${r.read} of ${r.sent})`);
}
for (const e of ['jit', 'interp'] as const) {
  const h = benchLookupHelpers(e);
  console.log(`XDP bpf_sk_lookup_udp + bpf_sk_release (${e}): ${h.hitNs.toFixed(0)} ns per call finding the socket, ${h.missNs.toFixed(0)} ns finding none`);
}
