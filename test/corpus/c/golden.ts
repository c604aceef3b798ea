// The schema of expected.json (written by gen-expected.ts) and its reader: what the Linux kernel
// did with each corpus packet, so machines without BPF can compare bpf-vm against it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GOLDEN_SCHEMA = 'vxo-kernel-golden/1';

export interface GoldenMapEntry {
  /** Hex bytes in memory order. */
  key: string;
  value: string;
}

export interface GoldenMapInfo {
  /** bpftool's type name: "array", "hash", "devmap", ... */
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** Read-only after load (.rodata). */
  frozen: boolean;
}

export interface GoldenObject {
  program: string;
  /** sha256 of the committed .o the cases were produced from; a mismatch means stale goldens. */
  sha256: string;
  /** The kernel that recorded this object when it differs from `environment.kernel` (a partial regeneration). */
  kernel?: string;
  /** The kernel verifier's "processed N insns". */
  verifierProcessed: number | null;
  /** Map names: C names for BTF-defined maps, ".bss"/".data"/".rodata" for global data. */
  maps: Record<string, GoldenMapInfo>;
}

export interface GoldenCaseBase {
  /** Repository-relative object path, a key of GoldenFile.objects. */
  object: string;
  program: string;
  /** The CorpusPacket name from packets.ts. */
  packetName: string;
  dataInHex: string;
  /** Entries written into maps after load, before the run. */
  mapUpdates?: Record<string, GoldenMapEntry[]>;
}

/** The kernel ran the program (BPF_PROG_TEST_RUN, repeat 1, maps fresh from load). */
export interface GoldenRun extends GoldenCaseBase {
  retval: number;
  /** data_meta .. data_end after the run: metadata, if any, comes first. */
  dataOutHex: string;
  /**
   * Every map after the run. ARRAY maps list only entries whose value is not all zero (a missing
   * index reads as zeros); hash maps list every entry sorted by key hex; an empty DEVMAP slot is
   * absent.
   */
  maps: Record<string, GoldenMapEntry[]>;
}

/** The kernel refused to run the program on this input (e.g. EINVAL for frames under 14 bytes). */
export interface GoldenRefusal extends GoldenCaseBase {
  /** errno name. */
  error: string;
}

export type GoldenCase = GoldenRun | GoldenRefusal;

export interface GoldenFile {
  schema: typeof GOLDEN_SCHEMA;
  generator: string;
  environment: { kernel: string; bpftool: string; clang: string };
  conventions: string[];
  objects: Record<string, GoldenObject>;
  cases: GoldenCase[];
}

export function isRefusal(c: GoldenCase): c is GoldenRefusal {
  return 'error' in c;
}

export const EXPECTED_PATH = fileURLToPath(new URL('./expected.json', import.meta.url));

export function loadGolden(path: string = EXPECTED_PATH): GoldenFile {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || (parsed as { schema?: unknown }).schema !== GOLDEN_SCHEMA) {
    throw new Error(`${path}: not a ${GOLDEN_SCHEMA} file`);
  }
  return parsed as GoldenFile;
}
