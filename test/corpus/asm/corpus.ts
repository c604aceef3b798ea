// Loader for the per-instruction semantics corpus in this folder: `<name>.data` text files in the
// format of the public eBPF conformance suite (Alan-Jowett/bpf_conformance, iovisor/ubpf tests).
// The format and the conventions of this corpus are described in README.md next to this file.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeInsns, type Insn } from '../../../bpf-vm/isa/insn.ts';

export interface AsmCase {
  /** File name without `.data`. */
  name: string;
  /** The `-- asm` section with `#` comments and blank lines removed (may be empty for raw-only cases). */
  asm: string;
  /** The `-- mem` section: the program's input memory (r1 points at it, r2 holds its length). */
  mem: Uint8Array;
  /** `-- result`: the expected r0, an unsigned 64-bit value. */
  result?: bigint;
  /** `-- error`: a substring of the expected load-time or run-time error message. */
  error?: string;
  /** `-- raw`: instruction slots given as 64-bit words; when present they are run instead of `asm`. */
  raw?: Insn[];
  /** The `#` comment lines at the top of the file. */
  description: string;
}

export const ASM_CORPUS_DIR = dirname(fileURLToPath(import.meta.url));

const SECTIONS = ['asm', 'raw', 'mem', 'result', 'error'] as const;
type Section = (typeof SECTIONS)[number];
const U64_MAX = (1n << 64n) - 1n;

function parseU64(text: string, where: string): bigint {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new Error(`${where}: not a number: ${text}`);
  const v = BigInt(text);
  if (v > U64_MAX) throw new Error(`${where}: ${text} does not fit in 64 bits`);
  return v;
}

/** Parses one `.data` file's text. Throws on anything malformed, so a typo cannot skip a case. */
export function parseAsmCase(name: string, text: string): AsmCase {
  const where = `${name}.data`;
  const body = new Map<Section, string[]>();
  const description: string[] = [];
  let current: Section | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    const at = `${where}:${i + 1}`;
    const header = /^--\s+(.*?)\s*$/.exec(line);
    if (header) {
      const s = header[1] as Section;
      if (!SECTIONS.includes(s)) throw new Error(`${at}: unknown section "-- ${header[1] ?? ''}"`);
      if (body.has(s)) throw new Error(`${at}: duplicate section "-- ${s}"`);
      body.set(s, []);
      current = s;
      return;
    }
    const trimmed = line.trim();
    if (current === undefined) {
      if (trimmed === '') return;
      if (!trimmed.startsWith('#')) throw new Error(`${at}: text before the first section`);
      description.push(trimmed.replace(/^#\s?/, ''));
      return;
    }
    // asm: drop comments anywhere on the line (as the suite's parser does); elsewhere only whole-line comments.
    const content = current === 'asm' ? (trimmed.split('#')[0] ?? '').trim() : trimmed.startsWith('#') ? '' : trimmed;
    if (content !== '') body.get(current)?.push(content);
  });

  const asm = (body.get('asm') ?? []).join('\n');
  const memTokens = (body.get('mem') ?? []).join(' ').split(/\s+/).filter((t) => t !== '');
  const mem = Uint8Array.from(memTokens, (t) => {
    if (!/^(0x)?[0-9a-f]{1,2}$/i.test(t)) throw new Error(`${where}: bad memory byte "${t}"`);
    return Number.parseInt(t.replace(/^0x/i, ''), 16);
  });

  const c: AsmCase = { name, asm, mem, description: description.join('\n') };

  const result = body.get('result');
  const error = body.get('error');
  if ((result === undefined) === (error === undefined)) throw new Error(`${where}: needs exactly one of "-- result" and "-- error"`);
  if (result !== undefined) {
    if (result.length !== 1) throw new Error(`${where}: "-- result" needs exactly one value`);
    c.result = parseU64(result[0] ?? '', where);
  }
  if (error !== undefined) {
    if (error.length !== 1 || error[0] === '') throw new Error(`${where}: "-- error" needs exactly one line`);
    c.error = error[0];
  }

  const raw = body.get('raw');
  if (raw !== undefined) {
    const words = raw.join(' ').split(/\s+/).filter((t) => t !== '').map((t) => parseU64(t, where));
    if (words.length === 0) throw new Error(`${where}: empty "-- raw" section`);
    const bytes = new Uint8Array(words.length * 8);
    const dv = new DataView(bytes.buffer);
    words.forEach((w, i) => dv.setBigUint64(i * 8, w, true));
    c.raw = decodeInsns(bytes, where);
  } else if (asm === '') {
    throw new Error(`${where}: no instructions ("-- asm" or "-- raw")`);
  }
  return c;
}

/** Every `.data` case in this folder, sorted by name. */
export function loadAsmCorpus(dir: string = ASM_CORPUS_DIR): AsmCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.data'))
    .sort()
    .map((f) => parseAsmCase(f.slice(0, -'.data'.length), readFileSync(join(dir, f), 'utf8')));
}
