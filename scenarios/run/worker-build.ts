// The build (dist/) a worker of the TypeScript sources may start from instead: `npm test` has just
// made it, and a worker booted through the TypeScript loader costs about twice the CPU of its
// built twin (spawn.ts). The build is used only when it is at least as new as every source it was
// made from and when it has every module the worker will load by URL: its entry, and each source
// module named in its workerData (a stack's setup module). A test's own worker or app (test/ is
// not built) keeps the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A worker's start from the build: its entry, and its data with source module URLs mapped. */
export interface BuiltStart {
  entry: URL;
  data: Record<string, unknown>;
}

export class WorkerBuild {
  private readonly root: string;
  private readonly dist: string;
  private why: string | null | undefined = undefined;

  /** `root`: the package's directory URL (ending in '/'); the build is its dist/. */
  constructor(private readonly rootUrl: URL) {
    this.root = fileURLToPath(rootUrl);
    this.dist = join(this.root, 'dist');
  }

  /**
   * The start from the build of the worker whose source entry is `entry` with `data`, or
   * undefined: the entry or a module its data names has no build, or the build is stale.
   */
  start(entry: URL, data: Record<string, unknown>): BuiltStart | undefined {
    const js = this.built(entry.href);
    if (js === undefined || this.unusable() !== undefined) return undefined;
    let missing = false;
    const mapped = mapStrings(data, (s) => {
      if (!this.isSource(s)) return s;
      const b = this.built(s);
      if (b === undefined) missing = true;
      return b?.href ?? s;
    }) as Record<string, unknown>;
    return missing ? undefined : { entry: js, data: mapped };
  }

  /**
   * Why the build cannot be used at all, or undefined: dist/ is missing, or a source is newer than
   * its build. Every .js of the build is compared with its .ts: a source changed after the build
   * shows here, and a source added since shows through the changed file that imports it. Looked at
   * once.
   */
  unusable(): string | undefined {
    if (this.why === undefined) {
      const newer = existsSync(this.dist) ? this.firstNewerSource(this.dist) : undefined;
      this.why = !existsSync(this.dist) ? 'dist/ does not exist'
        : newer !== undefined ? `${newer} is newer than its build in dist/` : null;
    }
    return this.why ?? undefined;
  }

  private isSource(href: string): boolean {
    return href.startsWith(this.rootUrl.href) && href.endsWith('.ts') && !href.includes('/node_modules/')
      && !href.startsWith(new URL('dist/', this.rootUrl).href);
  }

  /** dist/<path>.js for the source file URL <path>.ts, if the build has it. */
  private built(href: string): URL | undefined {
    if (!this.isSource(href)) return undefined;
    const js = new URL(`dist/${href.slice(this.rootUrl.href.length).replace(/\.ts$/, '.js')}`, this.rootUrl);
    try {
      return statSync(js).isFile() ? js : undefined;
    } catch {
      return undefined;
    }
  }

  private firstNewerSource(dir: string): string | undefined {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        const n = this.firstNewerSource(p);
        if (n !== undefined) return n;
        continue;
      }
      if (!e.name.endsWith('.js')) continue;
      const src = join(this.root, relative(this.dist, p).replace(/\.js$/, '.ts'));
      let srcMtime: number;
      try {
        srcMtime = statSync(src).mtimeMs;
      } catch {
        // A leftover of a source since removed: nothing imports it unless an importer changed.
        continue;
      }
      if (srcMtime > statSync(p).mtimeMs) return relative(this.root, src);
    }
    return undefined;
  }
}

/** Plain objects and arrays copied with `f` applied to their strings; anything else as it is. */
function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = mapStrings(x, f);
  return out;
}
