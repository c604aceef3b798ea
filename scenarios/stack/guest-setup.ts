// The guest's setup module for the network scenarios (GuestNetSpec.setup): see machine-setup.ts.
import { sk_lookup_hook_set } from '../../net/core/sk-lookup.ts';
import { setupMachine, type MachineApp, type MachineSetupContext } from './machine-setup.ts';
import type { StackSetupData } from './setup-data.ts';

export function setup(ctx: MachineSetupContext): MachineApp {
  // The kernel's build comes before anything is attached (a kernel without the series refuses SK_LOOKUP links).
  const d = ctx.data as Partial<StackSetupData> | undefined;
  if (d?.skLookupHook === false && sk_lookup_hook_set(ctx.net, false) !== 0) throw new Error('stack setup: cannot remove the SK_LOOKUP hook');
  return setupMachine({ ...ctx, machine: 'guest' });
}
