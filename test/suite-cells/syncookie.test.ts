// The syncookie suite's every cell, one short run each through the four workers (netperf TCP_CRR
// host -> guest over IPv4 and IPv6; without a flood, under a paced and an unpaced pktgen SYN flood,
// syn4 or syn6): each run's conservation, and the counters that say which path the connections
// took — the proxy on the host answering every SYN (the guest's listener never sees one, its
// program makes the connections with the kfunc, under its previous key while the secret rotates),
// the listener's classic cookies, or the SYN queue the flood fills. `npm run test:suites`; no throughput is asserted.
import test from 'ava';
import { syncookieSuite, syncookieFindings } from '../../scenarios/suite/syncookie.ts';
import { buildSuiteCell, withDeltas } from '../../scenarios/suite/run-suite.ts';
import type { SuiteCell, SuiteOptions } from '../../scenarios/suite/types.ts';
import { checkSyncookieRun } from '../suite/syncookie-checks.ts';

const O: SuiteOptions = { duration: 0.05, warmup: 0.05, repeat: 1, engine: 'jit' };
const done: SuiteCell[] = [];

for (const spec of syncookieSuite.cells()) {
  test.serial(`one short run of ${spec.id}: balanced, and its counters show its path`, async (t) => {
    const r = await syncookieSuite.run(spec, O);
    checkSyncookieRun(t, spec, r);
    done.push(buildSuiteCell(spec, [r]));
  });
}

test.serial('the findings, from the runs\' counters', (t) => {
  if (done.length !== syncookieSuite.cells().length) {
    t.pass('some runs failed: their tests say why');
    return;
  }
  const text = syncookieFindings(withDeltas(done, 'syncookies=2')).join('\n');
  t.regex(text, /TCP_CRR\+syn4\/syn-proxy: \d+ conn\/s/);
  t.regex(text, /TCP_CRR\+syn4 10kpps: the proxy kept the listener free of SYNs/);
  t.regex(text, /pktgen paced at 10000 SYNs\/s generated/);
  t.regex(text, /TCP_CRR\+syn4: the proxy kept the listener free of SYNs/);
  t.regex(text, /TCP_CRR\+syn4: without cookies the flood fills the SYN queue/);
  t.regex(text, /TCP_CRR: key rotation in flight/);
  // The IPv6 rows, the same facts.
  t.regex(text, /TCP_CRR6\+syn6\/syn-proxy: \d+ conn\/s/);
  t.regex(text, /TCP_CRR6\+syn6 10kpps: the proxy kept the listener free of SYNs/);
  t.regex(text, /TCP_CRR6\+syn6: the proxy kept the listener free of SYNs/);
  t.regex(text, /TCP_CRR6\+syn6: without cookies the flood fills the SYN queue/);
  t.regex(text, /TCP_CRR6: key rotation in flight/);
  t.regex(text, /TCP_CRR6 against TCP_CRR: syn-proxy \d+ against \d+ conn\/s/);
});
