// `npx tsx bench/syncookie-main.ts [rounds]`: connections per second through the custom SYN cookie
// (a tc program and bpf_sk_assign_tcp_reqsk), the classic SYN cookie path (tcp_syncookies=2) and
// the SYN queue, host client to guest server (bench/syncookie.ts).
import { benchSyncookieThread, benchSyncookieWorkers, syncookieLines } from './syncookie.ts';

const rounds = Number(process.argv[2] ?? 3);
for (const family of [4, 6] as const) {
  console.log(`netperf TCP_CRR -r 1,1 host to guest over the four workers, IPv${family}, connections/s (median of ${rounds} interleaved rounds of 2 s):`);
  const w = await benchSyncookieWorkers({ family, rounds });
  if (w.skipped !== undefined) console.log(`  custom cookie: n/a (${w.skipped})`);
  for (const l of syncookieLines(w.rows)) console.log(l);
  console.log(`netperf TCP_CRR -r 1,1 on one thread, two stacks on veth, IPv${family}, connections per wall-clock second (median of 5 interleaved rounds):`);
  const t = benchSyncookieThread({ family });
  if (t.skipped !== undefined) console.log(`  custom cookie (tc program): n/a (${t.skipped})`);
  for (const l of syncookieLines(t.rows)) console.log(l);
}
