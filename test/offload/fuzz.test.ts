// 100,000+ random and mutated class-EBPF commands through the device's handle(): it never throws,
// always answers with a well-formed ack and result, and its state stays what the successful
// commands made it, as tracked by this test's own model (maps, their contents, the program).
import test from 'ava';
import { assemble, BPF_MAP_TYPE, dumpMap, encodeInsns, toHex } from '../../bpf-vm/index.ts';
import {
  decodeEbpfMapCmd, decodeEbpfProgCmd, decodeEbpfResult, EbpfCtrlDecodeError, ebpfCmd, encodeEbpfMapCmd, type EbpfCtrlRequest, type EbpfMapRef,
} from '../../virtio/index.ts';
import { VirtioNetEbpf } from '../../host/offload/index.ts';

const COMMANDS = 100_000;
const SEED = 0x5eed_0ff1;

/** mulberry32: small, fast, reproducible. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface ModelMap {
  ref: EbpfMapRef;
  /** Keys (hex) to values (hex); arrays hold only the slots written. */
  entries: Map<string, string>;
}

class Model {
  live = new Map<number, ModelMap>();
  orphans = new Map<number, ModelMap>();
  attached: Set<number> | undefined;

  isArray(m: ModelMap): boolean { return m.ref.mapType === BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY; }

  value(m: ModelMap, key: Uint8Array): string | undefined {
    const k = toHex(key);
    if (this.isArray(m)) {
      const idx = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
      if (idx >= m.ref.maxEntries) return undefined;
      return m.entries.get(k) ?? '00'.repeat(m.ref.valueSize);
    }
    return m.entries.get(k);
  }

  /** What UPDATE_ELEM must answer (0 or an errno), with the kernel's rules. */
  update(m: ModelMap, key: Uint8Array, flags: bigint): number {
    if (flags > 2n) return 22;
    const present = this.value(m, key) !== undefined;
    if (this.isArray(m)) {
      if (!present) return 7; // E2BIG: index past the end
      return flags === 1n ? 17 : 0;
    }
    if (present && flags === 1n) return 17;
    if (!present && flags === 2n) return 2;
    if (!present && m.entries.size >= m.ref.maxEntries) return 7;
    return 0;
  }

  releaseOrphans(): void {
    for (const h of [...this.orphans.keys()]) if (!this.attached?.has(h)) this.orphans.delete(h);
  }
}

/** Handles a program's ld_imm64 map references name, exactly as the device walks them. */
function referencedHandles(insns: Uint8Array): Set<number> {
  const out = new Set<number>();
  const v = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  for (let o = 0; o + 8 <= insns.length; o += 8) {
    if (insns[o] !== 0x18) continue;
    const src = insns[o + 1]! >>> 4;
    if (src === 1 || src === 2) out.add(v.getUint32(o + 4, true));
    o += 8;
  }
  return out;
}

test(`fuzz: ${COMMANDS} random and mutated commands; the device always answers and stays consistent`, (t) => {
  const rnd = prng(SEED);
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));
  const dev = new VirtioNetEbpf({ maxMaps: 6, maxMapBytes: 256 * 1024, verifierBudget: 50_000 });
  const model = new Model();
  const stats = { ok: 0, err: 0, throws: 0, mutated: 0, random: 0, checks: 0, predicted: 0, programs: 0 };
  const t0 = performance.now();

  const someRef = (): EbpfMapRef | undefined => {
    const live = [...model.live.values()];
    if (live.length === 0 || rnd() < 0.05) {
      return { handle: int(12), mapType: pick([1, 2]), keySize: 4, valueSize: 8, maxEntries: 4 };
    }
    return pick(live).ref;
  };
  const key = (r: EbpfMapRef): Uint8Array => {
    const k = new Uint8Array(r.keySize);
    k[0] = int(r.maxEntries + 2);
    return k;
  };
  const program = (): Uint8Array => {
    const handles = [...model.live.keys()];
    const h = handles.length > 0 && rnd() < 0.8 ? pick(handles) : int(12);
    const helper = rnd() < 0.1 ? pick([69, 42, 8, 6]) : pick([5, 7]);
    return encodeInsns(assemble(`
      stw [%r10-4], ${int(4)}
      mov %r2, %r10
      add %r2, -4
      lddw %r1, map_by_fd(m)
      call 1
      call ${helper}
      lddw %r3, ${h}
      mov %r0, 2
      exit`, { mapId: () => h }));
  };
  const valid = (): EbpfCtrlRequest => {
    const r = rnd();
    if (r < 0.12) {
      return ebpfCmd.createMap({
        mapType: pick([1, 1, 2, 2, 2, 5, 6, 9]), keySize: pick([4, 4, 4, 8]), valueSize: pick([1, 4, 8, 16]),
        maxEntries: pick([1, 2, 4, 8, 0]), mapFlags: rnd() < 0.1 ? 1 : 0,
        ...(rnd() < 0.2 ? { meta: { name: pick(['rxcnt', 'flows', 'm.1']), keyType: '__u32' } } : {}),
      });
    }
    if (r < 0.15) return ebpfCmd.setOffload({ insns: program(), gplCompatible: rnd() < 0.5 });
    if (r < 0.16) return ebpfCmd.unsetOffload();
    const m = someRef()!;
    const v = bytes(m.valueSize);
    switch (int(7)) {
      case 0: return ebpfCmd.freeMap(m);
      case 1: case 2: return ebpfCmd.updateElem(m, key(m), v, pick([0, 0, 1, 2, 4]));
      case 3: return ebpfCmd.lookupElem(m, key(m));
      case 4: return ebpfCmd.deleteElem(m, key(m));
      case 5: return ebpfCmd.getFirst(m);
      default: return ebpfCmd.getNext(m, key(m));
    }
  };
  const mutate = (d: Uint8Array): Uint8Array => {
    let out = d.slice();
    const k = int(5);
    if (k === 0) out = out.subarray(0, int(out.length + 1));
    else if (k === 1) { const x = new Uint8Array(out.length + 1 + int(16)); x.set(out); x.set(bytes(x.length - out.length), out.length); out = x; }
    else if (k === 2) { const at = int(Math.min(out.length, 40)) & ~3; if (at + 4 <= out.length) new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(at, pick([0, 1, 2, 7, 8, 0xffffffff, 0x8000, int(2 ** 32)]), true); }
    else for (let i = 1 + int(4); i > 0 && out.length > 0; i--) out[int(out.length)] = int(256);
    return out;
  };

  const compare = (): void => {
    stats.checks++;
    const s = dev.show();
    const live = s.maps.filter((m) => !m.orphan);
    t.deepEqual(live.map((m) => m.handle), [...model.live.keys()].sort((a, b) => a - b));
    t.deepEqual(s.maps.filter((m) => m.orphan).map((m) => m.handle).sort((a, b) => a - b), [...model.orphans.keys()].sort((a, b) => a - b));
    t.is(s.usage.maps, model.live.size + model.orphans.size);
    for (const m of live) {
      const mm = model.live.get(m.handle)!;
      t.deepEqual([m.type, m.keySize, m.valueSize, m.maxEntries, m.flags], [mm.ref.mapType, mm.ref.keySize, mm.ref.valueSize, mm.ref.maxEntries, mm.ref.mapFlags ?? 0]);
      const got = new Map((m.entries ?? []).map((e) => [toHex(e.key), toHex(e.value)]));
      if (model.isArray(mm)) {
        t.is(got.size, mm.ref.maxEntries);
        for (const [k, v] of got) t.is(v, mm.entries.get(k) ?? '00'.repeat(mm.ref.valueSize));
      } else {
        t.deepEqual([...got].sort(), [...mm.entries].sort());
      }
    }
    t.deepEqual(s.program === undefined ? undefined : new Set(s.program.mapHandles), model.attached);
  };

  for (let i = 0; i < COMMANDS; i++) {
    if (i > 0 && i % 1000 === 0) compare();
    let cmd: number;
    let data: Uint8Array;
    const r = rnd();
    if (r < 0.5) {
      const req = valid();
      cmd = req.cmd;
      data = req.data;
    } else if (r < 0.9) {
      stats.mutated++;
      const req = valid();
      cmd = rnd() < 0.95 ? req.cmd : int(256);
      data = mutate(req.data);
    } else {
      stats.random++;
      cmd = rnd() < 0.8 ? 1 + int(2) : int(256);
      data = bytes(int(rnd() < 0.5 ? 48 : 200));
    }
    const cap = rnd() < 0.9 ? Infinity : int(24);

    let out: { ack: number; result: Uint8Array };
    try {
      out = dev.handle(cmd, data, cap);
    } catch (e) {
      stats.throws++;
      t.fail(`handle threw on command ${i}: ${(e as Error).message}`);
      continue;
    }
    if (out.ack !== 0 && out.ack !== 1) t.fail(`ack ${out.ack}`);
    let errno = -1;
    let result: Uint8Array | undefined;
    if (cap >= 8) {
      const res = decodeEbpfResult(out.result);
      if (res instanceof EbpfCtrlDecodeError) { t.fail(`result of command ${i}: ${res.message}`); continue; }
      if ((res.errno === 0) !== (out.ack === 0)) t.fail(`command ${i}: ack ${out.ack} with errno ${res.errno}`);
      errno = res.errno;
      result = res.data;
      if (out.result.length > cap) t.fail(`command ${i}: ${out.result.length} result bytes, room for ${cap}`);
    } else if (out.result.length !== 0) {
      t.fail(`command ${i}: a result without room for one`);
    }
    const ok = out.ack === 0;
    if (ok) stats.ok++;
    else stats.err++;

    // Predict what the model knows for sure, and apply what succeeded.
    if (cmd === 2) {
      const c = decodeEbpfMapCmd(data);
      if (c instanceof EbpfCtrlDecodeError) {
        if (ok) t.fail(`command ${i}: undecodable MAP command accepted`);
        continue;
      }
      if (c.cmd === 1) {
        if (ok) {
          const handle = new DataView(result!.buffer, result!.byteOffset, 4).getUint32(0, true);
          t.false(model.live.has(handle) || model.orphans.has(handle), 'a fresh handle');
          model.live.set(handle, { ref: { handle, mapType: c.mapType, keySize: c.keySize, valueSize: c.valueSize, maxEntries: c.maxEntries, mapFlags: c.mapFlags }, entries: new Map() });
        }
        continue;
      }
      const m = model.live.get(c.mapFd);
      const header = m !== undefined && c.mapType === m.ref.mapType && c.keySize === m.ref.keySize && c.valueSize === m.ref.valueSize
        && c.maxEntries === m.ref.maxEntries && c.mapFlags === (m.ref.mapFlags ?? 0) && c.meta === undefined;
      if (c.cmd >= 2 && c.cmd <= 7 && c.meta === undefined && m === undefined) {
        stats.predicted++;
        t.is(errno === -1 ? 9 : errno, 9, `command ${i}: unknown handle must be EBADF`);
      }
      if (!header) {
        if (ok) t.fail(`command ${i}: accepted with a header that does not match the model's map`);
        continue;
      }
      const k = c.buf.subarray(0, c.keySize);
      const v = c.buf.subarray(c.keySize, c.keySize + c.valueSize);
      if (c.cmd !== 3 && c.flags !== 0n) { if (ok) t.fail(`command ${i}: flags accepted`); continue; }
      switch (c.cmd) {
        case 2:
          if (ok) {
            model.live.delete(c.mapFd);
            if (model.attached?.has(c.mapFd)) model.orphans.set(c.mapFd, m);
          }
          break;
        case 3: {
          const want = model.update(m, k, c.flags);
          stats.predicted++;
          if (cap >= 8) t.is(errno, want, `command ${i}: UPDATE`);
          else t.is(ok, want === 0, `command ${i}: UPDATE`);
          if (ok) m.entries.set(toHex(k), toHex(v));
          break;
        }
        case 4: {
          const want = model.value(m, k);
          if (cap >= 8 + c.valueSize) {
            stats.predicted++;
            t.is(ok ? toHex(result!) : undefined, want, `command ${i}: LOOKUP`);
          }
          break;
        }
        case 5: {
          const array = model.isArray(m);
          const present = model.value(m, k) !== undefined;
          stats.predicted++;
          t.is(ok, !array && present, `command ${i}: DELETE`);
          if (ok) m.entries.delete(toHex(k));
          break;
        }
        default:
          if (ok) t.true(model.value(m, result!) !== undefined || model.isArray(m), `command ${i}: a key the model knows`);
      }
    } else if (cmd === 1) {
      const c = decodeEbpfProgCmd(data);
      if (c instanceof EbpfCtrlDecodeError) {
        if (ok) t.fail(`command ${i}: undecodable PROG command accepted`);
        continue;
      }
      if (!ok) continue;
      if (c.cmd === 1) {
        stats.programs++;
        const held = referencedHandles(c.insns);
        for (const h of held) t.true(model.live.has(h), `command ${i}: attached with handle ${h} the model does not have`);
        model.attached = held;
      } else {
        t.is(c.cmd, 2);
        t.not(model.attached, undefined, `command ${i}: UNSET accepted with nothing attached`);
        model.attached = undefined;
      }
      model.releaseOrphans();
    } else if (ok) {
      t.fail(`command ${i}: command ${cmd} accepted`);
    }
  }
  compare();
  const ms = performance.now() - t0;
  t.is(stats.throws, 0);
  t.is(dev.stats.internal_errors, 0, dev.lastError?.message);
  t.is(dev.stats.commands, COMMANDS);
  t.true(stats.ok > COMMANDS / 10 && stats.err > COMMANDS / 10, JSON.stringify(stats));
  t.true(stats.programs > 50, `programs attached: ${stats.programs}`);
  t.is(stats.checks, COMMANDS / 1000);
  t.log(`${COMMANDS} commands in ${ms.toFixed(0)} ms: ${JSON.stringify(stats)}`);
  // Final state straight from the host maps, not through show().
  for (const hm of dev.show().maps) if (!hm.orphan) t.is(dumpMap(dev.hostMap(hm.handle)!.map).length, hm.entries!.length);
});

test('fuzz helpers: the model walks ld_imm64 pairs as the device does', (t) => {
  const insns = encodeInsns(assemble('lddw %r1, map_by_fd(a)\nlddw %r2, 7\nmov %r0, 2\nexit', { mapId: () => 5 }));
  t.deepEqual([...referencedHandles(insns)], [5]);
  t.deepEqual(decodeEbpfMapCmd(encodeEbpfMapCmd({ cmd: 4, keySize: 4, valueSize: 4, buf: new Uint8Array(8) })) instanceof EbpfCtrlDecodeError, false);
});
