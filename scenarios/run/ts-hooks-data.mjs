// Where ts-hooks.mjs keeps its transforms: node_modules/.cache, as other tools do (gone with
// node_modules, never in the tree). VXO_TS_CACHE overrides it.
import { fileURLToPath } from 'node:url';

export function tsHooksData() {
  return { cacheDir: process.env.VXO_TS_CACHE ?? fileURLToPath(new URL('../../node_modules/.cache/vxo-ts/', import.meta.url)) };
}
