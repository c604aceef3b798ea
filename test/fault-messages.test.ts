// Run-time faults read the same whichever engine ran the program, and name the address accessed
// (base register + offset), not the base register's value.
import test from 'ava';
import { ENGINES, type EngineName } from '../bpf-vm/engines.ts';
import { RuntimeFault } from '../bpf-vm/errors.ts';
import { createMap } from '../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../bpf-vm/maps/map.ts';
import { bpfProgTestRun } from '../bpf-vm/prog/test-run.ts';
import { udp64 } from './support/packets.ts';
import { asmXdp } from './support/vm.ts';

const frame = udp64(); // 60 bytes at packet offset 256: valid 256..316

function faultOf(engine: EngineName, src: string, maps: Record<string, BpfMap> = {}): string {
  try {
    bpfProgTestRun(asmXdp(src, maps), { dataIn: frame, engine, verify: false });
  } catch (e) {
    if (e instanceof RuntimeFault) return e.message;
    throw e;
  }
  throw new Error('no fault');
}

const array = () => createMap({ name: 'a', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 });

const CASES: { name: string; src: string; maps?: () => Record<string, BpfMap>; message: string }[] = [
  {
    name: 'a read past data_end: the address is data + 60, one past the frame',
    src: 'ldxw %r2, [%r1+0]\nldxb %r0, [%r2+60]\nexit',
    message: 'pc 1: invalid memory access: read of 1 bytes at r2+60 = 0xffff00010000013c (packet, valid 256..316)',
  },
  {
    name: 'a read before data: a negative offset is subtracted',
    src: 'ldxw %r2, [%r1+0]\nldxh %r0, [%r2-2]\nexit',
    message: 'pc 1: invalid memory access: read of 2 bytes at r2-2 = 0xffff0001000000fe (packet, valid 256..316)',
  },
  {
    name: 'a write below the stack frame',
    src: 'stdw [%r10-520], 1\nmov %r0, 0\nexit',
    message: 'pc 0: invalid memory access: write of 8 bytes at r10-520 = 0xffff000200000df8 (stack, valid 3584..4096)',
  },
  {
    name: 'a store into a scalar address',
    src: 'mov %r3, 4096\nstw [%r3+16], 1\nmov %r0, 0\nexit',
    message: 'pc 1: invalid memory access: write of 4 bytes at r3+16 = 0x0000000000001010',
  },
  {
    name: 'an atomic add past the map\'s values',
    src: 'stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map_by_fd(a)\ncall 1\nmov %r1, 1\nlock add [%r0+32], %r1\nmov %r0, 0\nexit',
    maps: () => ({ a: array() }),
    message: 'pc 7: invalid memory access: atomic of 8 bytes at r0+32 = 0xffff000300000020 (a, valid 0..32)',
  },
  {
    // The JIT inlines ARRAY lookups; the interpreter calls the helper: the key fault must match.
    name: 'an ARRAY lookup whose key pointer is a scalar',
    src: 'mov %r2, 64\nlddw %r1, map_by_fd(a)\ncall 1\nmov %r0, 0\nexit',
    maps: () => ({ a: array() }),
    message: 'pc 3: invalid memory access: bpf_map_lookup_elem key: 4 bytes at 0x0000000000000040',
  },
];

for (const c of CASES) {
  test(`${c.name}: the same message on every engine`, (t) => {
    const got = ENGINES.map((engine) => faultOf(engine, c.src, c.maps?.() ?? {}));
    for (const [i, engine] of ENGINES.entries()) t.is(got[i], c.message, engine);
  });
}
