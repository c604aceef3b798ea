import { benchUdpRcv } from './bench/net-udp-rcv.ts';
const r = benchUdpRcv(4, 200_000, 9); console.log(r.nsPerPacket.toFixed(0));
