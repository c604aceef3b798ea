import test from 'ava';
import { machineInfo } from '../../scenarios/report/machine.ts';

test('machine info has every field, typed', (t) => {
  const m = machineInfo();
  t.true(m.cpu.length > 0);
  t.true(Number.isInteger(m.cores) && m.cores >= 1);
  t.is(m.node, process.version);
  t.regex(m.platform, /^\w+ \w+$/);
  t.true(m.kernel.length > 0);
});
