import { benchUdpRcv } from './bench/net-udp-rcv.ts';
for (const f of [4, 6] as const) { const r = benchUdpRcv(f); console.log(f, r.nsPerPacket.toFixed(0), r.rounds.join(' ')); }
