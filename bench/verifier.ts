// Verification cost: wall time and processed instructions per program, beside the kernel's count.
import { loadObjectFile } from '../bpf-vm/prog/collection.ts';
import { verifyProgram } from '../bpf-vm/verifier/index.ts';
import { kernelAvailable, kernelVerify } from '../test/support/kernel.ts';
import { XDP_DIR } from './vm.ts';

export interface VerifierBenchRow {
  prog: string;
  ms: number;
  processed: number;
  kernelProcessed: number | undefined;
}

export function benchVerifier(progs: readonly string[]): VerifierBenchRow[] {
  const kernel = kernelAvailable().ok;
  return progs.map((prog) => {
    const path = `${XDP_DIR}${prog}.o`;
    const p = loadObjectFile(path).program();
    let processed = verifyProgram(p).stats.processed;
    const samples: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      processed = verifyProgram(p).stats.processed;
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    return { prog, ms: samples[7]!, processed, kernelProcessed: kernel ? kernelVerify(path).processed : undefined };
  });
}
