// The suites by id, each loaded when it is asked for: a suite brings in its runners and programs,
// and `vxo table --suite netperf` should not pay for the others. 'offload' is not here: the RFC's
// table keeps its own runner and report (scenarios/run/table.ts); the command runs it itself.
// Each suite is the module scenarios/suite/<id>.ts exporting `<camelId>Suite` (types.ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { moduleHref } from '../run/spawn.ts';
import { RunError } from '../run/run-error.ts';
import { SUITE_IDS, type Suite, type SuiteId } from './types.ts';

export type SuiteModuleId = Exclude<SuiteId, 'offload'>;

/** The suites this registry loads, in the order `all` runs them (after offload). */
export const SUITE_MODULE_IDS = SUITE_IDS.filter((id): id is SuiteModuleId => id !== 'offload');

/** 'sk-lookup' -> 'skLookupSuite', the export's name. */
export function suiteExportName(id: SuiteModuleId): string {
  return `${id.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())}Suite`;
}

export function isSuiteId(s: string): s is SuiteId {
  return (SUITE_IDS as readonly string[]).includes(s);
}

function isSuite(x: unknown, id: SuiteModuleId): x is Suite {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Partial<Suite>;
  return s.id === id && typeof s.cells === 'function' && typeof s.run === 'function' && typeof s.findings === 'function'
    && Array.isArray(s.rows) && Array.isArray(s.columns);
}

/**
 * The suite `id`. The module is named by a computed URL, not a literal import: suites are added one
 * by one, and one that does not exist yet is a typed error (ENOENT) at run time, not a build failure.
 */
export async function loadSuite(id: string): Promise<Suite> {
  if (!isSuiteId(id)) throw new RunError('EINVAL', `--suite ${id}: ${[...SUITE_IDS, 'all'].join(', ')}`);
  if (id === 'offload') throw new RunError('EINVAL', 'suite offload: the RFC\'s table runs through runTable (scenarios/run/table.ts), not the suite runner');
  return loadSuiteModule(id);
}

async function loadSuiteModule(id: SuiteModuleId): Promise<Suite> {
  const url = new URL(`./${id}.ts`, import.meta.url);
  const href = moduleHref(url);
  if (!existsSync(fileURLToPath(href))) throw new RunError('ENOENT', `suite ${id}: its module ${fileURLToPath(href)} does not exist (not written yet)`);
  const mod = (await import(href)) as Record<string, unknown>;
  const name = suiteExportName(id);
  const s = mod[name];
  if (!isSuite(s, id)) throw new RunError('EINVAL', `suite ${id}: ${fileURLToPath(href)} does not export ${name}, a Suite with id '${id}'`);
  return s;
}
