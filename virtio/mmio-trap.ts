// Register accesses from a driver in one worker to a device model in another: a synchronous
// trap, as a guest's MMIO write exits to QEMU and resumes when QEMU has handled it. Slow (one
// Atomics round trip per access) and only used while probing, never on the packet path.
//
// Shared Int32 cells: [SEQ] request number the driver bumps, [DONE] the last one the device
// answered, [CAP] [OFF] [SIZE] [IS_WRITE] [VALUE] the access, [RESULT] the value read.
import { Doorbell, type SharedDoorbell } from './doorbell.ts';
import { VirtioError } from './errors.ts';
import type { VirtioPciCap, VirtioPciRegs } from './pci-regs.ts';
import { sharedCells } from './shared-cells.ts';

const SEQ = 0;
const DONE = 1;
const CAP = 2;
const OFF = 3;
const SIZE = 4;
const IS_WRITE = 5;
const VALUE = 6;
const RESULT = 7;
const CELLS = 8;

export interface SharedMmioTrap {
  cells: Int32Array;
  /** The device's doorbell: an access rings it so a sleeping device model wakes up. */
  device: SharedDoorbell;
}

export function createMmioTrap(device: SharedDoorbell): SharedMmioTrap {
  return { cells: sharedCells(CELLS), device };
}

/** The driver's end: every access waits for the device's answer (ETIMEDOUT after `timeoutMs`). */
export class MmioTrapClient implements VirtioPciRegs {
  private readonly cells: Int32Array;
  private readonly device: Doorbell;
  traps = 0;

  constructor(shared: SharedMmioTrap, readonly timeoutMs = 5000) {
    if (!(shared.cells.buffer instanceof SharedArrayBuffer) || shared.cells.length < CELLS) {
      throw new VirtioError('EINVAL', 'an MMIO trap needs a shared block of 8 cells');
    }
    this.cells = shared.cells;
    this.device = new Doorbell(shared.device);
  }

  read(cap: VirtioPciCap, offset: number, size: 1 | 2 | 4): number {
    return this.access(cap, offset, size, false, 0);
  }

  write(cap: VirtioPciCap, offset: number, size: 1 | 2 | 4, value: number): void {
    this.access(cap, offset, size, true, value);
  }

  private access(cap: number, offset: number, size: number, isWrite: boolean, value: number): number {
    const c = this.cells;
    c[CAP] = cap;
    c[OFF] = offset;
    c[SIZE] = size;
    c[IS_WRITE] = isWrite ? 1 : 0;
    c[VALUE] = value | 0;
    // The Atomics store orders the plain writes above before the device reads them.
    const seq = (Atomics.load(c, SEQ) + 1) | 0;
    Atomics.store(c, SEQ, seq);
    this.device.ring();
    this.traps++;
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const done = Atomics.load(c, DONE);
      if (done === seq) return Atomics.load(c, RESULT) >>> 0;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new VirtioError('ETIMEDOUT', `device did not answer a ${isWrite ? 'write' : 'read'} of cap ${cap} offset ${offset} within ${this.timeoutMs} ms`);
      }
      Atomics.wait(c, DONE, done, left);
    }
  }
}

/** The device's end: `service` answers a pending access, if any (call it whenever the doorbell rings). */
export class MmioTrapServer {
  private readonly cells: Int32Array;
  handled = 0;

  constructor(shared: SharedMmioTrap) {
    this.cells = shared.cells;
  }

  /** True when an access was answered. A device model that throws answers 0 and rethrows. */
  service(regs: VirtioPciRegs): boolean {
    const c = this.cells;
    const seq = Atomics.load(c, SEQ);
    if (seq === Atomics.load(c, DONE)) return false;
    const cap = c[CAP]! as VirtioPciCap;
    const off = c[OFF]!;
    const size = c[SIZE]!;
    let result = 0;
    try {
      if (size !== 1 && size !== 2 && size !== 4) result = 0;
      else if (c[IS_WRITE] === 1) regs.write(cap, off, size, c[VALUE]! >>> 0);
      else result = regs.read(cap, off, size);
    } finally {
      c[RESULT] = result | 0;
      Atomics.store(c, DONE, seq);
      Atomics.notify(c, DONE);
      this.handled++;
    }
    return true;
  }
}
