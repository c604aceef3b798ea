// ns per packet for the scenario programs on the 64-byte UDP frame, per engine.
import { fileURLToPath } from 'node:url';
import { ENGINES, type EngineName } from '../bpf-vm/engines.ts';
import { loadObjectFile } from '../bpf-vm/prog/collection.ts';
import { XdpProgramRunner } from '../bpf-vm/prog/xdp-runner.ts';
import { udp64 } from '../test/support/packets.ts';

export const XDP_DIR = fileURLToPath(new URL('../scenarios/xdp/', import.meta.url));

export interface VmBenchRow {
  prog: string;
  engine: EngineName;
  retval: number;
  /** Median over the rounds of the average ns per run. */
  nsPerPacket: number;
  rounds: number[];
}

/**
 * ns per packet as the data path runs programs: one long-lived runner (verified, prepared, and for
 * the JIT compiled once) running packet after packet; median of `rounds` rounds of `repeat` runs.
 */
export function benchProgram(prog: string, engine: EngineName, repeat = 2_000_000, rounds = 7): VmBenchRow {
  const runner = new XdpProgramRunner(loadObjectFile(`${XDP_DIR}${prog}.o`).program(), { engine });
  const dataIn = udp64();
  const frame = new Uint8Array(4096);
  frame.set(dataIn, 256);
  runner.xdp.prepare(frame, 0, 4096, 256, dataIn.length);
  // Warm-up lets V8 finish optimising the engine (tiering takes a few million runs).
  let retval = 0;
  for (let i = 0; i < 3 * repeat; i++) retval = runner.run();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < repeat; i++) retval = runner.run();
    samples.push(Math.round(((performance.now() - t0) * 1e6) / repeat));
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { prog, engine, retval, nsPerPacket: sorted[Math.floor(sorted.length / 2)]!, rounds: samples };
}

export function benchVm(progs: readonly string[] = ['xdp1', 'xdp2']): VmBenchRow[] {
  const rows: VmBenchRow[] = [];
  for (const prog of progs) for (const engine of ENGINES) rows.push(benchProgram(prog, engine));
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of benchVm(process.argv.slice(2).length ? process.argv.slice(2) : undefined)) {
    console.log(`${r.prog} ${r.engine}: ${r.nsPerPacket} ns/packet (rounds ${r.rounds.join(' ')}) retval ${r.retval}`);
  }
}

/** Load-to-first-packet cost: verify, prepare, generate and compile (JIT), and one run. Median of 9. */
export function compileTime(prog: string, engine: EngineName): { ms: number } {
  const samples: number[] = [];
  const dataIn = udp64();
  for (let i = 0; i < 9; i++) {
    const p = loadObjectFile(`${XDP_DIR}${prog}.o`).program();
    const t0 = performance.now();
    const runner = new XdpProgramRunner(p, { engine });
    const frame = new Uint8Array(4096);
    frame.set(dataIn, 256);
    runner.xdp.prepare(frame, 0, 4096, 256, dataIn.length);
    runner.run();
    samples.push(performance.now() - t0);
  }
  return { ms: samples.sort((a, b) => a - b)[4]! };
}
