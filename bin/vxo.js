#!/usr/bin/env node
// The package ships TypeScript sources; tsx compiles them on load so that `npx vxo` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../scenarios/cli/main.ts');
