// The soundness harness: generates programs, verifies them, and runs every accepted one in the
// bounds-checked interpreter on random packets and map states. An accepted program may never
// fault, never exhaust the instruction budget, and never read state it did not initialise (two
// runs that differ only in the garbage left in registers, the stack and r1-r5 after helper calls
// must give the same result). Failures are saved as replayable fixtures.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { toAsm } from '../../bpf-vm/asm/asm-printer.ts';
import { createEngine, type Engine } from '../../bpf-vm/engines.ts';
import { RuntimeFault } from '../../bpf-vm/errors.ts';
import { fromHex, toHex } from '../../bpf-vm/hex.ts';
import { helpersFor } from '../../bpf-vm/helpers/table.ts';
import type { HelperProto } from '../../bpf-vm/helpers/proto.ts';
import { ExecEnv } from '../../bpf-vm/interp/env.ts';
import { REGION_ID, regionTag } from '../../bpf-vm/interp/regions.ts';
import type { Insn } from '../../bpf-vm/isa/insn.ts';
import { OPCODE_TABLE } from '../../bpf-vm/isa/legality.ts';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { dumpMap } from '../../bpf-vm/maps/dump.ts';
import { BPF_MAP_TYPE, type BpfMap, type MapSpec } from '../../bpf-vm/maps/map.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import { prepareProgram, type PreparedProgram } from '../../bpf-vm/prog/prepare.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { validateProgram } from '../../bpf-vm/prog/validate.ts';
import { XdpBuff, xdpCtxLoad } from '../../bpf-vm/prog/xdp.ts';
import { VerifierError, type VerifyOptions, type VerifyResult } from '../../bpf-vm/verifier/api.ts';
import {
  ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6, IPPROTO_TCP, IPPROTO_UDP, ethernet, ipv4, ipv6, tcp, udp,
} from '../support/packets.ts';
import { FIRST_FD, generate, makeRng, type Expect, type GenProgram, type MapDef, type Rng } from './generator.ts';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/soundness/', import.meta.url));

export type VerifyFn = (prog: Program, opts?: VerifyOptions) => VerifyResult;

// ---------------------------------------------------------------------------------------------
// Inputs: packets and map states

export const FRAME_SIZE = 4096;
export const HEADROOM = 256;
const MAX_LEN = 300;

export interface PacketInput {
  /** The whole frame before the run: headroom contents matter once adjust_head grows the packet. */
  headroom: Uint8Array;
  packet: Uint8Array;
  ingressIfindex: number;
  rxQueueIndex: number;
}

function validFrame(rng: Rng): Uint8Array {
  const payload = rng.bytes(rng.int(0, 40));
  const l4 = (): { proto: number; bytes: Uint8Array } => rng.chance(0.5)
    ? { proto: IPPROTO_UDP, bytes: udp(payload, { srcPort: rng.int(0, 65535), dstPort: rng.int(0, 65535) }) }
    : { proto: IPPROTO_TCP, bytes: tcp(payload) };
  const vlans = rng.chance(0.4) ? Array.from({ length: rng.int(1, 2) }, () => ({ vid: rng.int(0, 4095) })) : [];
  const { proto, bytes } = l4();
  if (rng.chance(0.35)) return ethernet(ETH_P_IPV6, ipv6(proto, bytes, { hopLimit: rng.int(0, 255) }), { vlans });
  const ihlOptions = rng.chance(0.3) ? rng.bytes(4 * rng.int(1, 10)) : undefined;
  const ip = ipv4(proto, bytes, { ttl: rng.int(0, 255), ...(ihlOptions ? { options: ihlOptions } : {}) });
  if (rng.chance(0.1)) ip[0] = (ip[0]! & 0xf0) | rng.int(0, 15); // a lying IHL
  return ethernet(rng.chance(0.9) ? ETH_P_IP : ETH_P_8021Q, ip, { vlans });
}

/** Random packets: random bytes, valid headers (sometimes truncated), lengths at the program's check boundaries. */
export function makePacket(rng: Rng, hints: readonly number[]): PacketInput {
  let packet: Uint8Array;
  const k = rng.next();
  if (k < 0.3) {
    const frame = validFrame(rng);
    packet = rng.chance(0.5) ? frame : frame.subarray(0, Math.min(frame.length, rng.int(0, frame.length)));
  } else if (k < 0.7 && hints.length > 0) {
    const len = rng.pick(hints);
    const frame = rng.chance(0.75) ? validFrame(rng) : rng.bytes(len);
    packet = new Uint8Array(len);
    packet.set(frame.subarray(0, Math.min(len, frame.length)));
    if (frame.length < len) packet.set(rng.bytes(len - frame.length), frame.length);
  } else if (k < 0.8) {
    packet = rng.bytes(rng.int(0, 20));
  } else {
    packet = rng.bytes(rng.int(0, MAX_LEN));
  }
  if (packet.length > MAX_LEN) packet = packet.subarray(0, MAX_LEN);
  // Bytes the loops and masks read: make small and extreme values common.
  if (packet.length > 14 && rng.chance(0.3)) packet[14] = rng.pick([0, 1, 2, 5, 0x45, 0x4f, 0x7f, 0x80, 0xff]);
  return {
    headroom: rng.bytes(HEADROOM),
    packet: packet.slice(),
    ingressIfindex: rng.chance(0.5) ? 1 : rng.u32(),
    rxQueueIndex: rng.int(0, 3),
  };
}

export interface MapEntryHex { key: string; value: string }
/** Per map (in fd order), the entries to load before a run. */
export type MapState = MapEntryHex[][];

function keyBytes(size: number, k: number): Uint8Array {
  const b = new Uint8Array(size);
  new DataView(b.buffer).setUint32(0, k >>> 0, true);
  return b;
}

/** Map values word by word: zeros, small numbers, small numbers under random upper halves, small negatives, noise. */
function randomValue(rng: Rng, size: number): Uint8Array {
  const v = new Uint8Array(size);
  const dv = new DataView(v.buffer);
  if (rng.chance(0.15)) return v;
  for (let i = 0; i + 8 <= size; i += 8) {
    const k = rng.next();
    if (k < 0.15) continue;
    if (k < 0.4) dv.setBigUint64(i, BigInt(rng.int(0, 64)), true);
    else if (k < 0.55) dv.setBigUint64(i, (BigInt(rng.u32()) << 32n) | BigInt(rng.int(0, 64)), true);
    else if (k < 0.7) dv.setBigInt64(i, BigInt(-rng.int(1, 64)), true);
    else v.set(rng.bytes(8), i);
  }
  for (let i = size - (size % 8); i < size; i++) v[i] = rng.int(0, 255);
  return v;
}

export function makeMapState(rng: Rng, maps: readonly MapDef[]): MapState {
  return maps.map((m) => {
    const { keySize, valueSize, maxEntries } = m.spec;
    const out: MapEntryHex[] = [];
    if (m.spec.type === BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY) {
      for (let i = 0; i < maxEntries; i++) out.push({ key: toHex(keyBytes(4, i)), value: toHex(randomValue(rng, valueSize)) });
      return out;
    }
    const n = rng.int(0, maxEntries);
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const k = rng.chance(0.6) && m.keyHints.length > 0 ? rng.pick(m.keyHints) : rng.int(0, 8);
      const key = toHex(keyBytes(keySize, k));
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ key, value: toHex(randomValue(rng, valueSize)) });
    }
    return out;
  });
}

function loadMapState(maps: readonly BpfMap[], state: MapState): void {
  maps.forEach((m, i) => {
    if (m.spec.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY) {
      for (let k = m.getNextKey(undefined); k !== undefined; k = m.getNextKey(undefined)) m.delete(k);
    } else {
      const zero = new Uint8Array(m.spec.valueSize);
      for (let j = 0; j < m.spec.maxEntries; j++) m.update(keyBytes(4, j), zero);
    }
    for (const e of state[i] ?? []) {
      const rc = m.update(fromHex(e.key), fromHex(e.value));
      if (rc !== 0) throw new Error(`map ${m.spec.name}: loading state failed (${rc})`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Programs and maps

/** Maps are reused across programs (a fresh SharedArrayBuffer per program costs more than the run). */
export class MapPool {
  private readonly pool = new Map<string, BpfMap>();
  get(spec: MapSpec, ordinal: number): BpfMap {
    const id = `${ordinal}:${spec.type}:${spec.keySize}:${spec.valueSize}:${spec.maxEntries}:${spec.flags}`;
    let m = this.pool.get(id);
    if (m === undefined) {
      // One CPU: a hash map then has the fewest spare elements past max_entries.
      m = createMap(spec, { nrCpus: 1 });
      this.pool.set(id, m);
    }
    return m;
  }
}

export interface BuiltProgram {
  program: Program;
  maps: BpfMap[];
}

export function buildProgram(name: string, insns: readonly Insn[], specs: readonly MapSpec[], pool?: MapPool): BuiltProgram {
  const fds = new FdTable();
  const maps = specs.map((s, i) => (pool ? pool.get(s, i) : createMap(s, { nrCpus: 1 })));
  maps.forEach((m, i) => {
    const fd = fds.add(m);
    if (fd !== FIRST_FD + i) throw new Error(`FdTable gave fd ${fd}, expected ${FIRST_FD + i}`);
  });
  return {
    program: { name, section: 'xdp', type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, insns, funcs: [], license: 'GPL', fds },
    maps,
  };
}

// ---------------------------------------------------------------------------------------------
// The runner

const CTX_HI = regionTag(REGION_ID.CTX);

/** xorshift32 over a closure: garbage for registers and stack. */
function garbageGen(seed: number): () => number {
  let x = seed | 0 || 0x1234567;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x | 0;
  };
}

export interface RunOutcome {
  /** A RuntimeFault's message (a bad access, a bad call, or the budget), or an engine crash. */
  fault?: string;
  faultKind?: 'fault' | 'budget' | 'crash';
  /** Everything the program could have produced, as text, for comparing two runs. */
  result: string;
}

/**
 * XdpProgramRunner's setup (prepare, ExecEnv, XdpBuff, xdp_md loads, the interpreter with a
 * budget), plus what the kernel leaves undefined made visible: r0 and r2-r9 hold garbage at entry,
 * the stack holds garbage, and every helper call leaves garbage in r1-r5 (the kernel's caller-saved
 * registers). A program that reads any of it gives different results on different garbage.
 */
export class SoundnessRunner {
  readonly env: ExecEnv;
  readonly xdp: XdpBuff;
  readonly prepared: PreparedProgram;
  private readonly engine: Engine;
  /** The JIT compiled with the verifier's facts (it drops the checks they prove), when given facts. */
  private readonly jit: Engine | undefined;
  private garbage: () => number = garbageGen(1);
  private readonly frame = new Uint8Array(FRAME_SIZE);

  constructor(program: Program, readonly maps: readonly BpfMap[], budget: number, facts?: VerifyResult['facts']) {
    const R = (): Int32Array => this.env.R;
    const wrapped = new Map<number, HelperProto>();
    for (const [id, h] of helpersFor(program.type)) {
      wrapped.set(id, {
        ...h,
        impl: (env) => {
          h.impl(env);
          const regs = R();
          for (let i = 2; i < 12; i++) regs[i] = this.garbage();
        },
      });
    }
    this.prepared = prepareProgram({ type: program.type, insns: program.insns, fds: program.fds, helpers: wrapped });
    this.env = new ExecEnv(this.prepared.maps, 0x2545f491);
    this.xdp = new XdpBuff(new Uint8Array(0));
    this.env.xdp = this.xdp;
    this.env.ctxLoad = xdpCtxLoad;
    this.env.regions[REGION_ID.PACKET] = this.xdp.region;
    this.engine = createEngine('interp', this.prepared, this.env, { budget });
    this.jit = facts === undefined ? undefined : createEngine('jit', this.prepared, this.env, { budget, facts });
  }

  get hasJit(): boolean { return this.jit !== undefined; }

  run(input: PacketInput, state: MapState, garbageSeed: number, useJit = false): RunOutcome {
    loadMapState(this.maps, state);
    const f = this.frame;
    f.fill(0);
    f.set(input.headroom, 0);
    f.set(input.packet, HEADROOM);
    this.xdp.prepare(f, 0, FRAME_SIZE, HEADROOM, input.packet.length);
    this.xdp.ingressIfindex = input.ingressIfindex;
    this.xdp.rxQueueIndex = input.rxQueueIndex;
    this.garbage = garbageGen(garbageSeed);
    const R = this.env.R;
    for (let i = 0; i < 22; i++) R[i] = this.garbage();
    const st = this.env.regions[REGION_ID.STACK]!.u8;
    const st32 = new Int32Array(st.buffer, st.byteOffset, st.byteLength >>> 2);
    for (let i = 0; i < st32.length; i++) st32[i] = this.garbage();
    R[2] = 0;
    R[3] = CTX_HI;
    try {
      (useJit && this.jit ? this.jit : this.engine).run();
    } catch (e) {
      if (e instanceof RuntimeFault) return { fault: e.message, faultKind: e.code === 'ELIMIT' ? 'budget' : 'fault', result: '' };
      return { fault: `engine crash: ${(e as Error).stack ?? String(e)}`, faultKind: 'crash', result: '' };
    }
    const x = this.xdp;
    let result = `r0=${R[1]! >>> 0}:${R[0]! >>> 0} meta=${x.dataMeta} data=${x.data} end=${x.dataEnd} pkt=${toHex(f.subarray(x.dataMeta, x.dataEnd))}`;
    for (const m of this.maps) {
      const entries = dumpMap(m).map((e) => `${toHex(e.key)}=${toHex(e.value)}`).sort();
      result += ` ${m.spec.name}{${entries.join(',')}}`;
    }
    return { result };
  }
}

export interface Trial {
  input: PacketInput;
  state: MapState;
  garbage: [number, number];
}

export interface TrialFailure {
  /** jit-mismatch: the JIT, trusting the verifier's facts, disagrees with the interpreter. */
  kind: 'fault' | 'budget' | 'crash' | 'nondeterministic' | 'jit-mismatch';
  message: string;
  trial: Trial;
}

/** The fields in which two results differ (each shortened), for messages. */
export function resultDiff(a: string, b: string): string {
  const ta = a.split(' '), tb = b.split(' ');
  const cut = (x: string | undefined): string => (x === undefined ? '(none)' : x.length > 100 ? `${x.slice(0, 100)}...` : x);
  const out: string[] = [];
  for (let i = 0; i < Math.max(ta.length, tb.length); i++) {
    if (ta[i] !== tb[i]) out.push(`${cut(ta[i])} vs ${cut(tb[i])}`);
  }
  return out.join('; ');
}

/** Runs one trial twice on different garbage; a fault or a difference is a failure. */
export function runTrial(runner: SoundnessRunner, trial: Trial, differential = true): TrialFailure | undefined {
  const a = runner.run(trial.input, trial.state, trial.garbage[0]);
  if (a.fault !== undefined) return { kind: a.faultKind ?? 'fault', message: a.fault, trial };
  if (!differential) return undefined;
  const b = runner.run(trial.input, trial.state, trial.garbage[1]);
  if (b.fault !== undefined) return { kind: b.faultKind ?? 'fault', message: `${b.fault} (only with the second run's garbage)`, trial };
  if (a.result !== b.result) {
    return { kind: 'nondeterministic', message: `result depends on uninitialised registers or stack: ${resultDiff(a.result, b.result)}`, trial };
  }
  if (runner.hasJit) {
    const j = runner.run(trial.input, trial.state, trial.garbage[0], true);
    if (j.fault !== undefined || j.result !== a.result) {
      const what = j.fault !== undefined ? `the JIT faults: ${j.fault}` : `interpreter vs JIT: ${resultDiff(a.result, j.result)}`;
      return { kind: 'jit-mismatch', message: `the JIT with the verifier's facts disagrees with the interpreter: ${what}`, trial };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Verification

export type Verdict =
  | { accepted: true; processed: number; facts: VerifyResult['facts'] }
  | { accepted: false; code: string; message: string }
  | { accepted: false; crash: string };

export function verify(verifyFn: VerifyFn, program: Program, maxProcessed: number): Verdict {
  try {
    const res = verifyFn(program, { logLevel: 0, maxProcessed });
    return { accepted: true, processed: res.stats.processed, facts: res.facts };
  } catch (e) {
    // The verifier turns its own exceptions into a rejection; for this test they are crashes.
    if (e instanceof VerifierError && !e.message.startsWith('verifier internal error')) return { accepted: false, code: e.code, message: e.message };
    return { accepted: false, crash: (e as Error).stack ?? String(e) };
  }
}

// ---------------------------------------------------------------------------------------------
// Minimising a failing program: drop instructions while the verifier still accepts it and the
// same trial still fails the same way.

function isJumpish(ins: Insn): 'off' | 'imm' | undefined {
  const rule = OPCODE_TABLE.get(ins.code);
  if (rule === undefined) return undefined;
  if (rule.kind === 'ja' || rule.kind === 'jcond') return 'off';
  if (rule.kind === 'gotol') return 'imm';
  if (rule.kind === 'call' && ins.src === 1) return 'imm';
  return undefined;
}

/** Removes `count` slots at `at`, re-pointing jumps and local calls (a target inside the gap moves to its end). */
export function removeSlots(insns: readonly Insn[], at: number, count: number): Insn[] {
  const out: Insn[] = [];
  const map = (t: number): number => (t < at ? t : t < at + count ? at : t - count);
  for (let pc = 0; pc < insns.length; pc++) {
    if (pc >= at && pc < at + count) continue;
    const ins = { ...insns[pc]! };
    const field = isJumpish(ins);
    if (field !== undefined && !(pc > 0 && insns[pc - 1]!.code === 0x18)) {
      const rel = field === 'off' ? ins.off : ins.imm;
      const target = map(pc + 1 + rel);
      const newRel = target - (map(pc) + 1);
      if (field === 'off') ins.off = newRel;
      else ins.imm = newRel;
    }
    out.push(ins);
  }
  return out;
}

export function minimise(
  insns: readonly Insn[], specs: readonly MapSpec[], verifyFn: VerifyFn, maxProcessed: number, budget: number,
  failure: TrialFailure,
): Insn[] {
  let cur = [...insns];
  const stillFails = (cand: Insn[]): boolean => {
    try { validateProgram(cand); } catch { return false; }
    const built = buildProgram('min', cand, specs);
    const v = verify(verifyFn, built.program, maxProcessed);
    if (!v.accepted) return false;
    let runner: SoundnessRunner;
    try {
      runner = new SoundnessRunner(built.program, built.maps, budget, failure.kind === 'jit-mismatch' ? v.facts : undefined);
    } catch { return false; }
    const f = runTrial(runner, failure.trial, failure.kind === 'nondeterministic' || failure.kind === 'jit-mismatch');
    return f !== undefined && f.kind === failure.kind;
  };
  for (let changed = true, rounds = 0; changed && rounds < 8; rounds++) {
    changed = false;
    for (let pc = cur.length - 1; pc >= 0; pc--) {
      if (pc >= cur.length) continue;
      const isSecondHalf = pc > 0 && cur[pc - 1]!.code === 0x18;
      if (isSecondHalf) continue;
      const n = cur[pc]!.code === 0x18 ? 2 : 1;
      const cand = removeSlots(cur, pc, n);
      if (cand.length > 0 && stillFails(cand)) { cur = cand; changed = true; }
    }
  }
  return cur;
}

// ---------------------------------------------------------------------------------------------
// Fixtures

export interface Fixture {
  kind: TrialFailure['kind'] | 'verifier-crash';
  message: string;
  program: { baseSeed: number; index: number; seed: number; shape: string; variant: string; expect: Expect; extras: string[] };
  maps: MapSpec[];
  mapState: MapState;
  packet: { headroom: string; data: string; ingressIfindex: number; rxQueueIndex: number };
  garbage: [number, number];
  asm: string[];
  /** The smallest program found that the verifier accepts and that fails the same way on the same input. */
  minimized?: string[];
}

const asmLines = (insns: readonly Insn[]): string[] => toAsm(insns).trimEnd().split('\n');

export function fixtureName(gp: GenProgram): string {
  return `${gp.shape}-${gp.variant}-${(gp.seed >>> 0).toString(16).padStart(8, '0')}.json`;
}

export function saveFixture(dir: string, name: string, fx: Fixture): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, `${JSON.stringify(fx, null, 1)}\n`);
  return path;
}

export function loadFixtures(dir: string): { name: string; fx: Fixture }[] {
  let names: string[];
  try { names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort(); } catch { return []; }
  return names.map((name) => ({ name, fx: JSON.parse(readFileSync(join(dir, name), 'utf8')) as Fixture }));
}

export function fixtureTrial(fx: Fixture): Trial {
  return {
    input: {
      headroom: fromHex(fx.packet.headroom),
      packet: fromHex(fx.packet.data),
      ingressIfindex: fx.packet.ingressIfindex,
      rxQueueIndex: fx.packet.rxQueueIndex,
    },
    state: fx.mapState,
    garbage: fx.garbage,
  };
}

export function assembleFixture(lines: readonly string[]): Insn[] {
  return assemble(lines.join('\n'));
}

// ---------------------------------------------------------------------------------------------
// The campaign

export interface CampaignOptions {
  baseSeed: number;
  count: number;
  verifyFn: VerifyFn;
  /** Trials per accepted program. */
  trials: number;
  /** More trials for an accepted program labelled broken that the first ones did not catch. */
  extraTrials: number;
  /** A new map state every this many trials. */
  trialsPerState: number;
  /** Unverified trials per program, to check the generator's labels and the oracle's reach. */
  sanityTrials: number;
  maxProcessed: number;
  budget: number;
  fixtureDir: string;
  /** Stop saving (and minimising) after this many failures. */
  maxFixtures: number;
  /** Also run accepted programs on the JIT given the verifier's facts, and compare. */
  jit: boolean;
}

export interface VariantStats {
  shape: string;
  variant: string;
  expect: Expect;
  generated: number;
  accepted: number;
  /** Programs that failed a trial when run without verification (the oracle can see the bug). */
  detectable: number;
  /** Accepted programs that then failed: soundness bugs. */
  unsound: number;
}

export interface SoundnessFailure {
  fixture: string;
  kind: Fixture['kind'];
  shape: string;
  variant: string;
  expect: Expect;
  message: string;
  minimized?: string[];
}

export interface CampaignReport {
  generated: number;
  invalid: number;
  accepted: number;
  runs: number;
  sanityRuns: number;
  failures: SoundnessFailure[];
  /** Programs labelled correct that fault or misbehave without verification: the generator is wrong. */
  generatorErrors: string[];
  variants: Map<string, VariantStats>;
  /** Correct-variant programs the verifier rejected: shape/variant, and the verifier's message. */
  rejectedSafe: { shape: string; variant: string; index: number; message: string }[];
  /** Broken-variant programs the verifier accepted and no trial caught (worth a look). */
  acceptedUnsafe: { shape: string; variant: string; index: number }[];
  verifyMs: number;
  runMs: number;
}

function makeTrials(rng: Rng, gp: GenProgram, n: number, perState: number): Trial[] {
  const trials: Trial[] = [];
  let state = makeMapState(rng, gp.maps);
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % perState === 0) state = makeMapState(rng, gp.maps);
    trials.push({ input: makePacket(rng, gp.lengthHints), state, garbage: [rng.u32() | 1, rng.u32() | 1] });
  }
  return trials;
}

function firstFailure(runner: SoundnessRunner, trials: readonly Trial[]): TrialFailure | undefined {
  for (const t of trials) {
    const f = runTrial(runner, t);
    if (f !== undefined) return f;
  }
  return undefined;
}

export function runCampaign(o: CampaignOptions): CampaignReport {
  const pool = new MapPool();
  const report: CampaignReport = {
    generated: 0, invalid: 0, accepted: 0, runs: 0, sanityRuns: 0, failures: [], generatorErrors: [],
    variants: new Map(), rejectedSafe: [], acceptedUnsafe: [], verifyMs: 0, runMs: 0,
  };
  for (let index = 0; index < o.count; index++) {
    const gp = generate(o.baseSeed, index);
    report.generated++;
    const key = `${gp.shape}/${gp.variant}`;
    let vs = report.variants.get(key);
    if (vs === undefined) {
      vs = { shape: gp.shape, variant: gp.variant, expect: gp.expect, generated: 0, accepted: 0, detectable: 0, unsound: 0 };
      report.variants.set(key, vs);
    }
    vs.generated++;
    try {
      validateProgram(gp.insns);
    } catch (e) {
      report.invalid++;
      report.generatorErrors.push(`#${index} ${key}: structurally invalid: ${(e as Error).message}`);
      continue;
    }
    const specs = gp.maps.map((m) => m.spec);
    const built = buildProgram(`soundness_${index}`, gp.insns, specs, pool);
    const t0 = performance.now();
    const verdict = verify(o.verifyFn, built.program, o.maxProcessed);
    report.verifyMs += performance.now() - t0;
    const rng = makeRng(gp.seed ^ 0x7f4a7c15);
    const t1 = performance.now();
    const runner = new SoundnessRunner(built.program, built.maps, o.budget,
      o.jit && verdict.accepted ? verdict.facts : undefined);
    const save = (kind: Fixture['kind'], message: string, f: TrialFailure | undefined): void => {
      const name = fixtureName(gp);
      let minimized: string[] | undefined;
      if (f !== undefined && report.failures.length < o.maxFixtures) {
        minimized = asmLines(minimise(gp.insns, specs, o.verifyFn, o.maxProcessed, o.budget, f));
      }
      const trial = f?.trial ?? makeTrials(rng, gp, 1, 1)[0]!;
      const fx: Fixture = {
        kind, message,
        program: { baseSeed: o.baseSeed, index, seed: gp.seed, shape: gp.shape, variant: gp.variant, expect: gp.expect, extras: gp.extras },
        maps: specs,
        mapState: trial.state,
        packet: {
          headroom: toHex(trial.input.headroom), data: toHex(trial.input.packet),
          ingressIfindex: trial.input.ingressIfindex, rxQueueIndex: trial.input.rxQueueIndex,
        },
        garbage: trial.garbage,
        asm: asmLines(gp.insns),
        ...(minimized ? { minimized } : {}),
      };
      if (report.failures.length < o.maxFixtures) saveFixture(o.fixtureDir, name, fx);
      report.failures.push({ fixture: name, kind, shape: gp.shape, variant: gp.variant, expect: gp.expect, message, ...(minimized ? { minimized } : {}) });
    };

    if ('crash' in verdict) {
      save('verifier-crash', `verifier crashed: ${verdict.crash}`, undefined);
      report.runMs += performance.now() - t1;
      continue;
    }
    if (verdict.accepted) {
      report.accepted++;
      vs.accepted++;
      const trials = makeTrials(rng, gp, o.trials, o.trialsPerState);
      if (gp.expect === 'unsafe') trials.push(...makeTrials(rng, gp, o.extraTrials, o.trialsPerState));
      let failure: TrialFailure | undefined;
      for (const t of trials) {
        report.runs++;
        failure = runTrial(runner, t);
        if (failure !== undefined) break;
      }
      if (failure !== undefined) {
        vs.detectable++;
        vs.unsound++;
        save(failure.kind, failure.message, failure);
      } else if (gp.expect === 'unsafe') {
        report.acceptedUnsafe.push({ shape: gp.shape, variant: gp.variant, index });
      }
    } else {
      if (gp.expect === 'safe') report.rejectedSafe.push({ shape: gp.shape, variant: gp.variant, index, message: verdict.message });
      // Not run for soundness; run a few trials unverified to see whether the oracle would catch it.
      if (o.sanityTrials > 0) {
        const trials = makeTrials(rng, gp, o.sanityTrials, Math.max(1, o.sanityTrials >> 1));
        report.sanityRuns += trials.length;
        const f = firstFailure(runner, trials);
        if (f !== undefined) {
          vs.detectable++;
          if (gp.expect === 'safe') report.generatorErrors.push(`#${index} ${key} (seed ${gp.seed}): ${f.kind}: ${f.message}`);
        }
      }
    }
    report.runMs += performance.now() - t1;
  }
  return report;
}

/** One text table: per shape and variant, generated / accepted / detectable-when-unverified. */
export function formatReport(r: CampaignReport, variants = true): string {
  const lines: string[] = [];
  const byShape = new Map<string, VariantStats[]>();
  for (const s of r.variants.values()) {
    const l = byShape.get(s.shape) ?? [];
    l.push(s);
    byShape.set(s.shape, l);
  }
  const pct = (a: number, b: number): string => (b === 0 ? '   -' : `${Math.round((100 * a) / b)}%`.padStart(4));
  for (const [shape, list] of [...byShape].sort((a, b) => a[0].localeCompare(b[0]))) {
    const safe = list.filter((s) => s.expect === 'safe');
    const sg = safe.reduce((n, s) => n + s.generated, 0), sa = safe.reduce((n, s) => n + s.accepted, 0);
    const bad = list.filter((s) => s.expect === 'unsafe');
    const bg = bad.reduce((n, s) => n + s.generated, 0), ba = bad.reduce((n, s) => n + s.accepted, 0);
    lines.push(`${shape.padEnd(12)} correct ${String(sa).padStart(4)}/${String(sg).padEnd(4)} accepted ${pct(sa, sg)}   broken ${String(ba).padStart(4)}/${String(bg).padEnd(4)} accepted ${pct(ba, bg)}`);
    for (const s of variants ? list.sort((a, b) => a.variant.localeCompare(b.variant)) : []) {
      const det = s.expect === 'safe' ? '' : `  oracle sees ${s.detectable}/${s.generated}`;
      lines.push(`    ${s.variant.padEnd(26)} ${s.expect.padEnd(6)} ${String(s.accepted).padStart(4)}/${String(s.generated).padEnd(4)} accepted${det}${s.unsound ? `  UNSOUND ${s.unsound}` : ''}`);
    }
  }
  return lines.join('\n');
}
