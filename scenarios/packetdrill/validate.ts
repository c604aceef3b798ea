// What can be known wrong about a script before it runs, so that a script never half-runs.
import type { EventTime, Script } from './ast.ts';
import { ScriptError } from './errors.ts';
import type { RunConfig } from './config.ts';
import { checkSyscall } from './syscalls.ts';
import { runCommand } from './sysctl.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { BootState } from '../../net/core/boot-state.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';

/**
 * What can be known wrong before anything runs, so a script never half-runs: the first event's
 * time, absolute times going backwards, and shell lines that are not sysctls vxo has (checked on
 * a scratch netns).
 */
export function validate(script: Script, cfg: RunConfig): void {
  let last: EventTime | undefined;
  let scratch: Net | undefined;
  for (const ev of script.events) {
    if (ev.action.kind === 'syscall') checkSyscall(script.file, cfg.defines, ev.action.syscall);
    if (ev.action.kind === 'command') {
      scratch ??= new Net(new BootState({ clock: new VirtualClock(), seed: 1 }));
      const r = runCommand(scratch, ev.action.text);
      if (r !== undefined) throw new ScriptError(script.file, ev.loc, r);
    }
    const time = ev.time;
    if (time === undefined) continue;
    if (last === undefined && time.kind !== 'any' && time.usecs !== 0) throw new ScriptError(script.file, ev.loc, 'first event should be at time 0');
    const absUs = (x: EventTime): number | undefined => (x.kind === 'absolute' || x.kind === 'absolute_range' ? x.usecs : undefined);
    const prev = last === undefined ? undefined : absUs(last);
    const cur = absUs(time);
    if (prev !== undefined && cur !== undefined && cur < prev) {
      throw new ScriptError(script.file, ev.loc, `time goes backward in script from ${prev} usec to ${cur} usec`);
    }
    last = time;
  }
}
