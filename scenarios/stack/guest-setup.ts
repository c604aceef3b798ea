// The guest's setup module for the network scenarios (GuestNetSpec.setup): see machine-setup.ts.
import { setupMachine, type MachineApp, type MachineSetupContext } from './machine-setup.ts';

export function setup(ctx: MachineSetupContext): MachineApp {
  return setupMachine({ ...ctx, machine: 'guest' });
}
