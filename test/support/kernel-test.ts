// The wrapper of the kernel tests (test/kernel): a test that needs the live kernel.
import test, { type ExecutionContext } from 'ava';
import { kernelAvailable } from './kernel.ts';

/**
 * Runs `fn` only where the kernel can serve (kernelAvailable()); elsewhere logs the reason and
 * passes. Serial: the harness's pin-leak check looks at this process's pins and must not see a
 * neighbour's, and the tests share fixed pin paths under /sys/fs/bpf. `fn` may be async.
 */
export function kernelTest(title: string, fn: (t: ExecutionContext) => void | Promise<void>): void {
  test.serial(title, async (t) => {
    const avail = kernelAvailable();
    if (!avail.ok) {
      t.log(`kernel reference unavailable: ${avail.reason}`);
      t.pass();
      return;
    }
    await fn(t);
  });
}
