// Why the engines keep registers as int32 (lo, hi) pairs: the same 64-bit add/sub/compare loop
// (r0 += r1; r1 -= 1; if r1 != 0 goto loop) over several register-file representations, alone and
// inside an interpreter's dispatch loop, and a load through a region-tagged pointer. V8 lowers pure
// BigUint64Array arithmetic to machine words, so BigInt registers win the arithmetic loops; but
// every pointer must be split into region and offset, and BigInt -> Number conversions make such a
// load an order of magnitude slower. XDP programs are mostly loads, so the engines keep int32 pairs.

const ITERS = 2_000_000;

function pairs(): number {
  const R = new Int32Array(4);
  R[2] = ITERS;
  for (;;) {
    const a = R[0]!, b = R[2]!;
    const r = (a + b) | 0;
    R[1] = (R[1]! + R[3]! + ((r >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
    R[0] = r;
    const c: number = R[2]!;
    R[2] = (c - 1) | 0;
    R[3] = (R[3]! - ((c >>> 0) < 1 ? 1 : 0)) | 0;
    if (R[2] === 0 && R[3] === 0) break;
  }
  return R[0]! >>> 0;
}

function bigRegisterFile(): number {
  const R = new BigUint64Array(2);
  R[1] = BigInt(ITERS);
  for (;;) {
    R[0] = R[0]! + R[1]!;
    R[1] = R[1]! - 1n;
    if (R[1] === 0n) break;
  }
  return Number(R[0]! & 0xffffffffn);
}

function bigLocals(): number {
  let r0 = 0n, r1 = BigInt(ITERS);
  for (;;) {
    r0 = BigInt.asUintN(64, r0 + r1);
    r1 = BigInt.asUintN(64, r1 - 1n);
    if (r1 === 0n) break;
  }
  return Number(r0 & 0xffffffffn);
}

// Packet parsing: load a u16 from memory into a register, compare it, accumulate.
const PKT = new Uint8Array(64).map((_, i) => i * 7);
const DV = new DataView(PKT.buffer);

function pairsLoad(): number {
  const R = new Int32Array(4);
  for (let i = 0; i < ITERS; i++) {
    R[2] = DV.getUint16(i & 31, true); R[3] = 0;
    if (R[2] !== 0x0008 || R[3] !== 0) {
      const a = R[0]!, b = R[2]!;
      const r = (a + b) | 0;
      R[1] = (R[1]! + R[3]! + ((r >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
      R[0] = r;
    }
  }
  return R[0]! >>> 0;
}

function bigLoad(): number {
  const R = new BigUint64Array(2);
  for (let i = 0; i < ITERS; i++) {
    R[1] = BigInt(DV.getUint16(i & 31, true));
    if (R[1] !== 0x0008n) R[0] = R[0]! + R[1]!;
  }
  return Number(R[0]! & 0xffffffffn);
}

// The same loop as an interpreter runs it: a switch over packed instructions (mov, add, sub, jne).
const LOOP_WORD = new Int32Array([0xb7, 0xb7 | (1 << 8), 0x0f | (1 << 16), 0x17 | (1 << 8), 0x55 | (1 << 8), 0x95]);
const LOOP_OFF = new Int32Array([0, 0, 0, 0, -3, 0]);
const LOOP_IMM = new Int32Array([0, ITERS, 0, 1, 0, 0]);

function dispatchPairs(): number {
  const R = new Int32Array(22);
  for (let pc = 0; ; pc++) {
    const w = LOOP_WORD[pc]!;
    const d = ((w >> 8) & 0xff) << 1;
    switch (w & 0xff) {
      case 0xb7: { const b = LOOP_IMM[pc]!; R[d] = b; R[d + 1] = b >> 31; break; }
      case 0x0f: {
        const s = (w >>> 16) << 1; const a = R[d]!; const r = (a + R[s]!) | 0;
        R[d + 1] = (R[d + 1]! + R[s + 1]! + ((r >>> 0) < (a >>> 0) ? 1 : 0)) | 0; R[d] = r; break;
      }
      case 0x17: { const a = R[d]!, b = LOOP_IMM[pc]!; R[d] = (a - b) | 0; R[d + 1] = (R[d + 1]! - (b >> 31) - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0; break; }
      case 0x55: { const b = LOOP_IMM[pc]!; if (R[d] !== b || R[d + 1] !== b >> 31) pc += LOOP_OFF[pc]!; break; }
      default: return R[0]! >>> 0;
    }
  }
}

function dispatchBig(): number {
  const R = new BigUint64Array(11);
  for (let pc = 0; ; pc++) {
    const w = LOOP_WORD[pc]!;
    const d = (w >> 8) & 0xff;
    switch (w & 0xff) {
      case 0xb7: R[d] = BigInt(LOOP_IMM[pc]!); break;
      case 0x0f: R[d] = R[d]! + R[w >>> 16]!; break;
      case 0x17: R[d] = R[d]! - BigInt(LOOP_IMM[pc]!); break;
      case 0x55: if (R[d] !== BigInt.asUintN(64, BigInt(LOOP_IMM[pc]!))) pc += LOOP_OFF[pc]!; break;
      default: return Number(R[0]! & 0xffffffffn);
    }
  }
}

// r2 = *(u16 *)(r1 + 12) through a region-tagged pointer, then r0 += r2.
const REGIONS = [undefined, { dv: DV, lo: 0, hi: 64 }];

function pointerLoadPairs(): number {
  const R = new Int32Array(22);
  R[3] = 0xffff0001 | 0;
  for (let i = 0; i < ITERS; i++) {
    const hi = R[3]!, a = (R[2]! >>> 0) + 12;
    const g = REGIONS[hi & 0xffff];
    if (g === undefined || (hi >>> 16) !== 0xffff || a < g.lo || a + 2 > g.hi) throw new Error('fault');
    R[4] = g.dv.getUint16(a, true); R[5] = 0;
    const x = R[0]!, r = (x + R[4]!) | 0;
    R[1] = (R[1]! + ((r >>> 0) < (x >>> 0) ? 1 : 0)) | 0; R[0] = r;
  }
  return R[0]! >>> 0;
}

function pointerLoadBig(): number {
  const R = new BigUint64Array(11);
  R[1] = 0xffff000100000000n;
  for (let i = 0; i < ITERS; i++) {
    const p = R[1]!;
    const hi = Number(p >> 32n), a = Number(p & 0xffffffffn) + 12;
    const g = REGIONS[hi & 0xffff];
    if (g === undefined || (hi >>> 16) !== 0xffff || a < g.lo || a + 2 > g.hi) throw new Error('fault');
    R[2] = BigInt(g.dv.getUint16(a, true));
    R[0] = R[0]! + R[2]!;
  }
  return Number(R[0]! & 0xffffffffn);
}

/** ns per operation: `ops` eBPF-level operations per loop iteration. */
function time(fn: () => number, ops = 3): number {
  fn();
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    fn();
    samples.push(((performance.now() - t0) * 1e6) / (ITERS * ops));
  }
  return samples.sort((a, b) => a - b)[2]!;
}

export function benchRegisters(): { name: string; nsPerOp: number }[] {
  const expected = pairs();
  if (bigRegisterFile() !== expected || bigLocals() !== expected || pairsLoad() !== bigLoad() || dispatchPairs() !== expected || dispatchBig() !== expected || pointerLoadPairs() !== pointerLoadBig()) {
    throw new Error('register representations disagree');
  }
  return [
    { name: 'int32 (lo, hi) pairs in an Int32Array', nsPerOp: time(pairs) },
    { name: 'BigUint64Array register file', nsPerOp: time(bigRegisterFile) },
    { name: 'BigInt locals with asUintN', nsPerOp: time(bigLocals) },
    { name: 'load+compare+add: int32 pairs', nsPerOp: time(pairsLoad) },
    { name: 'load+compare+add: BigUint64Array', nsPerOp: time(bigLoad) },
    { name: 'interpreter dispatch: int32 pairs', nsPerOp: time(dispatchPairs) },
    { name: 'interpreter dispatch: BigUint64Array', nsPerOp: time(dispatchBig) },
    { name: 'pointer load: int32 pairs', nsPerOp: time(pointerLoadPairs, 2) },
    { name: 'pointer load: BigUint64Array', nsPerOp: time(pointerLoadBig, 2) },
  ];
}
