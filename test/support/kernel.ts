// The Linux kernel as a reference engine, driven through bpftool: its verifier (prog loadall)
// and BPF_PROG_TEST_RUN (prog run). Tests and golden-file generators compare bpf-vm with this.
//
// Every call loads the object afresh under its own directory in the BPF filesystem, so maps start
// in their initial state (zeroed, or the ELF's .data/.rodata contents), and removes the pins in a
// finally block: a pinned program or map would otherwise live until reboot.
//
// Kernel test-run semantics worth knowing when comparing:
// - frames shorter than ETH_HLEN (14) are refused with EINVAL before the program runs;
// - data_out is the frame from data_meta to data_end, so metadata written with
//   bpf_xdp_adjust_meta comes out in front of the packet;
// - with repeat N the maps persist across the N runs and data_out is the last run's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { fromHex } from '../../bpf-vm/hex.ts';

const BPFFS = '/sys/fs/bpf';
const BPFTOOL = 'bpftool';
const CLANG = 'clang';

export type KernelAvailability = { ok: true } | { ok: false; reason: string };

/** One map entry, key and value as hex bytes in memory order. */
export interface MapEntry {
  key: string;
  value: string;
}

export interface KernelMapInfo {
  /** bpftool's type name: "array", "hash", "devmap", ... */
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** Read-only after load (.rodata). */
  frozen: boolean;
}

export interface KernelRunOptions {
  /** The program's function name; may be left out when the object holds one program. */
  program?: string;
  dataIn: Uint8Array;
  /** BPF_PROG_TEST_RUN repeat count, 1 unless given. */
  repeat?: number;
  /** Entries written into maps (by the names results use) after load and before the run. */
  mapUpdates?: Record<string, readonly MapEntry[]>;
  /** PROG_ARRAY slots filled with programs of the same object (by function name), before the run. */
  progSlots?: Record<string, readonly { key: number; program: string }[]>;
}

export interface KernelRunResult {
  retval: number;
  /** Average per run as the kernel measured it (ns). */
  durationNs: number;
  dataOut: Uint8Array;
  /**
   * Every map of the object after the run. Names: the C name for BTF-defined maps, the ELF
   * section for global data (".bss", ".data", ".rodata"). Entries: array-like maps in index
   * order with every slot; hash-like maps sorted by key hex; slots a lookup cannot return
   * (an empty DEVMAP slot) are left out.
   */
  maps: Record<string, MapEntry[]>;
  mapInfo: Record<string, KernelMapInfo>;
}

export interface KernelVerifyResult {
  accepted: boolean;
  /** bpftool -d output: libbpf's debug lines and the verifier's log. */
  log: string;
  /** The verifier's "processed N insns" (the last program's, if the object has several). */
  processed?: number;
  /** "processed" per program, in load order. */
  processedByProgram?: number[];
}

/** bpftool failed; `errno` names the error when bpftool printed a strerror text. */
export class KernelToolError extends Error {
  readonly errno: string | undefined;
  readonly stderr: string;
  constructor(message: string, stderr: string) {
    super(message);
    this.name = 'KernelToolError';
    this.stderr = stderr;
    this.errno = errnoFromText(stderr);
  }
}

// strerror texts bpftool prints, to errno names (glibc wording).
const STRERROR: ReadonlyArray<readonly [string, string]> = [
  ['Operation not permitted', 'EPERM'],
  ['No such file or directory', 'ENOENT'],
  ['Argument list too long', 'E2BIG'],
  ['Bad file descriptor', 'EBADF'],
  ['Cannot allocate memory', 'ENOMEM'],
  ['Permission denied', 'EACCES'],
  ['Bad address', 'EFAULT'],
  ['Device or resource busy', 'EBUSY'],
  ['File exists', 'EEXIST'],
  ['Invalid argument', 'EINVAL'],
  ['No space left on device', 'ENOSPC'],
  ['Numerical result out of range', 'ERANGE'],
  ['Operation not supported', 'EOPNOTSUPP'],
  ['Unknown error 524', 'ENOTSUPP'],
];

function errnoFromText(text: string): string | undefined {
  for (const [msg, name] of STRERROR) if (text.includes(msg)) return name;
  return undefined;
}

interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

function run(cmd: string, args: readonly string[]): ToolResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  const out: ToolResult = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (r.error) out.error = r.error;
  return out;
}

function bpftool(args: readonly string[]): string {
  const r = run(BPFTOOL, args);
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.stderr.trim() || r.stdout.trim();
    throw new KernelToolError(`bpftool ${args.join(' ')}: ${why}`, r.stderr + (r.error?.message ?? ''));
  }
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------
// Availability

function onPath(cmd: string): boolean {
  const r = run(cmd, ['--version']);
  return !r.error;
}

function bpffsMounted(): boolean {
  try {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .some((line) => {
        const f = line.split(' ');
        return f[1] === BPFFS && f[2] === 'bpf';
      });
  } catch {
    return false;
  }
}

const TRIVIAL_XDP = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int vxo_probe(struct xdp_md *ctx) { return XDP_PASS; }
char _license[] SEC("license") = "GPL";
`;

function archIncludeDir(): string {
  const machine = run('uname', ['-m']).stdout.trim() || 'x86_64';
  return `/usr/include/${machine}-linux-gnu`;
}

/** The clang command line the project's Makefiles use, for compiling probes and test programs. */
export function clangBpfArgs(src: string, obj: string): string[] {
  return ['-O2', '-g', '-target', 'bpf', `-I${archIncludeDir()}`, '-c', src, '-o', obj];
}

function probe(): KernelAvailability {
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not root: loading BPF programs needs CAP_BPF/CAP_SYS_ADMIN' };
  if (!onPath(BPFTOOL)) return { ok: false, reason: 'bpftool is not on PATH (Debian: apt install bpftool)' };
  if (!onPath(CLANG)) return { ok: false, reason: 'clang is not on PATH (Debian: apt install clang llvm libbpf-dev)' };
  if (!bpffsMounted()) {
    const m = run('mount', ['-t', 'bpf', 'bpf', BPFFS]);
    if (m.error || m.status !== 0 || !bpffsMounted()) {
      return { ok: false, reason: `no BPF filesystem at ${BPFFS} and mounting one failed: ${m.stderr.trim() || m.error?.message}` };
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'vxo-kprobe-'));
  try {
    const src = join(dir, 'probe.c');
    const obj = join(dir, 'probe.o');
    writeFileSync(src, TRIVIAL_XDP);
    const cc = run(CLANG, clangBpfArgs(src, obj));
    if (cc.error || cc.status !== 0) return { ok: false, reason: `clang cannot build a BPF object: ${cc.stderr.trim()}` };
    const r = kernelTestRun(obj, { dataIn: new Uint8Array(14) });
    if (r.retval !== 2) return { ok: false, reason: `a trivial XDP program returned ${r.retval}, not XDP_PASS` };
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `the kernel refused a trivial XDP program: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A refusal that says this kernel lacks a helper its program type has upstream, not a verdict on
 * the program: the kernel some of these machines run (6.18.44-fc) refuses bpf_xdp_adjust_meta
 * for XDP, a build choice. The corpus's objects were accepted by the kernels that recorded them,
 * so there such a refusal means "cannot compare here". Returns the reason to log, or undefined for
 * any other refusal.
 */
export function missingKernelHelper(message: string): string | undefined {
  const m = /program of this type cannot use helper (bpf_\w+#\d+)/.exec(message);
  if (m === null) return undefined;
  return `this kernel (${release()}) does not give this program type ${m[1]}, which upstream Linux does (vxo follows upstream): not compared here`;
}

function release(): string {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

let availability: KernelAvailability | undefined;

/** Whether this machine can serve as the kernel reference (checked once per process). */
export function kernelAvailable(): KernelAvailability {
  availability ??= probe();
  return availability;
}

// ---------------------------------------------------------------------------------------------
// Loading

let pinSeq = 0;

interface Loaded {
  base: string;
  progDir: string;
  mapDir: string;
  log: string;
}

function freshPinBase(): string {
  pinSeq++;
  return join(BPFFS, `vxo-${process.pid}-${pinSeq}-${randomBytes(4).toString('hex')}`);
}

/** loadall pins programs by function name and maps by (sanitised) name under a fresh base. */
function loadAll(objPath: string, base: string, debug: boolean, noPerfmon = false): Loaded {
  if (!existsSync(objPath)) throw new Error(`no such object: ${objPath}`);
  mkdirSync(base);
  const progDir = join(base, 'progs');
  const mapDir = join(base, 'maps');
  const args = [...(debug ? ['-d'] : []), 'prog', 'loadall', objPath, progDir, 'pinmaps', mapDir];
  // capsh drops the capabilities from the bounding set; the shell it starts (root) then execs
  // bpftool with CAP_BPF and CAP_NET_ADMIN but without CAP_SYS_ADMIN and CAP_PERFMON.
  const r = noPerfmon
    ? run('capsh', ['--drop=cap_sys_admin,cap_perfmon', '--', '-c', 'exec "$0" "$@"', BPFTOOL, ...args])
    : run(BPFTOOL, args);
  if (noPerfmon && r.error) throw new Error(`capsh (libcap2-bin) is needed to load without CAP_PERFMON: ${r.error.message}`);
  const log = r.stdout + r.stderr;
  if (r.error || r.status !== 0) {
    throw new KernelToolError(`bpftool prog loadall ${objPath} failed:\n${log}${r.error?.message ?? ''}`, log);
  }
  return { base, progDir, mapDir, log };
}

function removePins(base: string): void {
  rmSync(base, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// bpftool JSON, checked rather than trusted

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hexBytes(v: unknown, what: string): string {
  if (!Array.isArray(v) || !v.every((b): b is string => typeof b === 'string' && /^0x[0-9a-f]{2}$/i.test(b))) {
    throw new Error(`unexpected bpftool ${what}: ${JSON.stringify(v)}`);
  }
  return v.map((b) => b.slice(2).toLowerCase()).join('');
}

function mapShow(pin: string): { name: string; info: KernelMapInfo } {
  const j: unknown = JSON.parse(bpftool(['map', 'show', 'pinned', pin, '-j']));
  if (!isRecord(j) || typeof j.name !== 'string' || typeof j.type !== 'string') {
    throw new Error(`unexpected bpftool map show output for ${pin}`);
  }
  const num = (k: string): number => {
    const v = j[k];
    if (typeof v !== 'number') throw new Error(`bpftool map show ${pin}: no ${k}`);
    return v;
  };
  return {
    name: j.name,
    info: {
      type: j.type,
      keySize: num('bytes_key'),
      valueSize: num('bytes_value'),
      maxEntries: num('max_entries'),
      frozen: j.frozen === 1,
    },
  };
}

const HASH_LIKE = new Set(['hash', 'lru_hash', 'percpu_hash', 'lru_percpu_hash', 'devmap_hash', 'lpm_trie']);

function mapDump(pin: string, type: string): MapEntry[] {
  const j: unknown = JSON.parse(bpftool(['map', 'dump', 'pinned', pin, '-j']));
  if (!Array.isArray(j)) throw new Error(`unexpected bpftool map dump output for ${pin}`);
  const out: MapEntry[] = [];
  for (const e of j) {
    if (!isRecord(e)) throw new Error(`unexpected map entry ${JSON.stringify(e)}`);
    // An {"error": ...} value is a slot the kernel has no element for (empty DEVMAP slot).
    if (isRecord(e.value) && 'error' in e.value) continue;
    if ('values' in e) throw new Error(`per-CPU map ${pin}: not supported by the harness`);
    out.push({ key: hexBytes(e.key, 'map key'), value: hexBytes(e.value, 'map value') });
  }
  if (HASH_LIKE.has(type)) out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}

/**
 * Map names as a VM sees them in the ELF: libbpf names global-data maps "<obj prefix>.<section>"
 * (e.g. "flow_cou.bss"), which becomes ".bss"; other maps keep their full C name, which the pin
 * file carries untruncated (the kernel's own name stops at 15 characters).
 */
function elfMapName(kernelName: string, pinName: string): string {
  const dot = kernelName.indexOf('.');
  return dot >= 0 ? kernelName.slice(dot) : pinName;
}

interface PinnedMap {
  pin: string;
  info: KernelMapInfo;
}

function pinnedMaps(mapDir: string): Map<string, PinnedMap> {
  const maps = new Map<string, PinnedMap>();
  if (!existsSync(mapDir)) return maps;
  for (const f of readdirSync(mapDir).sort()) {
    const pin = join(mapDir, f);
    const { name, info } = mapShow(pin);
    maps.set(elfMapName(name, f), { pin, info });
  }
  return maps;
}

// ---------------------------------------------------------------------------------------------
// Test run

const RUN_LINE = /Return value: (\d+), duration(?: \(average\))?: (\d+)ns/;

/** Loads `objPath` fresh, runs one program on `dataIn` through BPF_PROG_TEST_RUN, dumps its maps. */
export function kernelTestRun(objPath: string, opts: KernelRunOptions): KernelRunResult {
  const repeat = opts.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1) throw new RangeError(`repeat must be a positive integer, not ${repeat}`);
  const base = freshPinBase();
  const files = mkdtempSync(join(tmpdir(), 'vxo-krun-'));
  try {
    const loaded = loadAll(objPath, base, false);
    const progs = readdirSync(loaded.progDir).sort();
    let prog: string;
    if (opts.program !== undefined) {
      if (!progs.includes(opts.program)) {
        throw new Error(`${objPath} has no program ${opts.program} (has ${progs.join(', ')})`);
      }
      prog = opts.program;
    } else if (progs.length === 1) {
      prog = progs[0]!;
    } else {
      throw new Error(`${objPath} holds ${progs.length} programs (${progs.join(', ')}): name one`);
    }

    const maps = pinnedMaps(loaded.mapDir);
    for (const [name, entries] of Object.entries(opts.mapUpdates ?? {})) {
      const m = maps.get(name);
      if (!m) throw new Error(`${objPath} has no map ${name} (has ${[...maps.keys()].join(', ')})`);
      for (const e of entries) {
        const hexArgs = (hex: string): string[] => ['hex', ...Array.from(fromHex(hex), (b) => b.toString(16).padStart(2, '0'))];
        bpftool(['map', 'update', 'pinned', m.pin, 'key', ...hexArgs(e.key), 'value', ...hexArgs(e.value)]);
      }
    }

    for (const [name, slots] of Object.entries(opts.progSlots ?? {})) {
      const m = maps.get(name);
      if (!m) throw new Error(`${objPath} has no map ${name}`);
      for (const s of slots) {
        const key = Array.from(new Uint8Array(new Uint32Array([s.key]).buffer), (b) => b.toString(16).padStart(2, '0'));
        bpftool(['map', 'update', 'pinned', m.pin, 'key', 'hex', ...key, 'value', 'pinned', join(loaded.progDir, s.program)]);
      }
    }

    const inFile = join(files, 'in.bin');
    const outFile = join(files, 'out.bin');
    writeFileSync(inFile, opts.dataIn);
    const stdout = bpftool([
      'prog', 'run', 'pinned', join(loaded.progDir, prog),
      'data_in', inFile, 'data_out', outFile, 'repeat', String(repeat),
    ]);
    const m = RUN_LINE.exec(stdout);
    if (!m) throw new Error(`unexpected bpftool prog run output: ${stdout}`);
    const dataOut = existsSync(outFile) ? new Uint8Array(readFileSync(outFile)) : new Uint8Array(0);

    const dumped: Record<string, MapEntry[]> = {};
    const mapInfo: Record<string, KernelMapInfo> = {};
    for (const [name, pm] of maps) {
      // A ring buffer has no elements to dump (its records are read through mmap, not bpftool).
      dumped[name] = pm.info.type === 'ringbuf' ? [] : mapDump(pm.pin, pm.info.type);
      mapInfo[name] = pm.info;
    }
    return { retval: Number(m[1]), durationNs: Number(m[2]), dataOut, maps: dumped, mapInfo };
  } finally {
    removePins(base);
    rmSync(files, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Verifier

const PROCESSED = /^processed (\d+) insns/gm;

export interface KernelVerifyOptions {
  /**
   * Load through capsh with CAP_BPF + CAP_NET_ADMIN but without CAP_SYS_ADMIN and CAP_PERFMON:
   * the verifier then refuses reads of uninitialised stack, pointer leaks and Spectre v1-unsafe
   * pointer arithmetic, which it allows a perfmon-capable loader. Needs capsh (libcap2-bin).
   */
  noPerfmon?: boolean;
  /**
   * Without bpftool -d: no log for accepted programs (and no `processed` count), and for a
   * rejected one the log libbpf fetches when it reloads the program with log level 1. For
   * programs whose full log (level 7 under -d) would be too large to collect. Default false.
   */
  quiet?: boolean;
}

/** Runs the kernel verifier over every program in `objPath` (loaded, then unpinned). */
export function kernelVerify(objPath: string, opts: KernelVerifyOptions = {}): KernelVerifyResult {
  const base = freshPinBase();
  try {
    let log: string;
    let accepted: boolean;
    try {
      log = loadAll(objPath, base, !(opts.quiet ?? false), opts.noPerfmon ?? false).log;
      accepted = true;
    } catch (e) {
      if (!(e instanceof KernelToolError)) throw e;
      log = e.stderr;
      accepted = false;
    }
    const counts = Array.from(log.matchAll(PROCESSED), (m) => Number(m[1]));
    const result: KernelVerifyResult = { accepted, log };
    if (counts.length > 0) {
      result.processed = counts[counts.length - 1]!;
      result.processedByProgram = counts;
    }
    return result;
  } finally {
    removePins(base);
  }
}


// ---------------------------------------------------------------------------------------------
// Raw instructions (no ELF object): test/support/bpf-load.c, built on demand with the host clang

/** A map the raw loader creates before the program; vxo's FdTable numbering: the i-th map is fd 3 + i. */
export interface RawMapSpec {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
}

export interface KernelVerifyInsnsOptions {
  /** enum bpf_prog_type, XDP (6) unless given. */
  progType?: number;
  /** Created in order; ld_imm64 map references with imm 3 + i are patched to the i-th map's fd. */
  maps?: readonly RawMapSpec[];
  /** The verifier's log level, 1 unless given (0 gives the verdict alone). */
  logLevel?: 0 | 1 | 2;
  /**
   * Load with CAP_BPF + CAP_NET_ADMIN but without CAP_PERFMON and CAP_SYS_ADMIN (maps are still
   * created as root). The verifier then refuses what it only lets perfmon-capable loaders do:
   * reading uninitialised stack, leaking pointers, Spectre v1-unsafe pointer arithmetic.
   */
  noPerfmon?: boolean;
}

export interface KernelVerifyInsnsResult extends KernelVerifyResult {
  /** The errno name of a rejection (EACCES for most verifier errors, EINVAL, E2BIG, ...). */
  errno?: string;
}

let rawLoader: string | undefined;

function rawLoaderPath(): string {
  if (rawLoader !== undefined && existsSync(rawLoader)) return rawLoader;
  const src = fileURLToPath(new URL('./bpf-load.c', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'vxo-bpf-load-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bpf-load');
  const r = run(CLANG, ['-O2', '-Wall', '-o', bin, src]);
  if (r.error || r.status !== 0) throw new Error(`cannot build ${src}: ${r.stderr.trim() || r.error?.message}`);
  rawLoader = bin;
  return bin;
}

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM', 2: 'ENOENT', 7: 'E2BIG', 9: 'EBADF', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT',
  16: 'EBUSY', 22: 'EINVAL', 28: 'ENOSPC', 34: 'ERANGE', 95: 'EOPNOTSUPP', 524: 'ENOTSUPP',
};

/**
 * Runs the kernel verifier over raw instruction slots (struct bpf_insn, as vxo's Insn), with maps
 * created for it: for programs an ELF object cannot carry, and for hand-written assembly.
 */
export function kernelVerifyInsns(
  insns: readonly { code: number; dst: number; src: number; off: number; imm: number }[],
  opts: KernelVerifyInsnsOptions = {},
): KernelVerifyInsnsResult {
  const bin = rawLoaderPath();
  const dir = mkdtempSync(join(tmpdir(), 'vxo-kraw-'));
  try {
    const bytes = new Uint8Array(insns.length * 8);
    const dv = new DataView(bytes.buffer);
    insns.forEach((ins, i) => {
      dv.setUint8(i * 8, ins.code & 0xff);
      dv.setUint8(i * 8 + 1, ((ins.src & 0x0f) << 4) | (ins.dst & 0x0f));
      dv.setInt16(i * 8 + 2, ins.off, true);
      dv.setInt32(i * 8 + 4, ins.imm | 0, true);
    });
    const file = join(dir, 'insns.bin');
    writeFileSync(file, bytes);
    const maps = (opts.maps ?? []).map((m) => `${m.type}:${m.keySize}:${m.valueSize}:${m.maxEntries}:${m.flags ?? 0}`);
    const r = run(bin, [...(opts.noPerfmon ? ['--no-perfmon'] : []), String(opts.progType ?? 6), String(opts.logLevel ?? 1), file, ...maps]);
    if (r.error || r.status !== 0) throw new KernelToolError(`bpf-load failed: ${r.stderr.trim() || r.error?.message}`, r.stderr);
    const nl = r.stdout.indexOf('\n');
    const head = r.stdout.slice(0, nl);
    const log = r.stdout.slice(nl + 1);
    const m = /^rejected (\d+)$/.exec(head);
    const result: KernelVerifyInsnsResult = { accepted: head === 'accepted', log };
    if (m) {
      const n = Number(m[1]);
      result.errno = ERRNO_NAMES[n] ?? `E${n}`;
    }
    const counts = Array.from(log.matchAll(PROCESSED), (x) => Number(x[1]));
    if (counts.length > 0) {
      result.processed = counts[counts.length - 1]!;
      result.processedByProgram = counts;
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
