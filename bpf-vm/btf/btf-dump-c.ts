// A vmlinux.h from BTF, as `bpftool btf dump file F format c unsorted` writes it: libbpf's btf_dump
// algorithm (src/btf_dump.c), reimplemented. Types are visited in id order; each one's strong
// dependencies (members embedded by value, typedef targets) are ordered before it, while types only
// reached through a pointer get a forward declaration when they are not defined yet. Every record
// type sits inside `#pragma clang attribute push (__attribute__((preserve_access_index)), ...)` so
// that clang records CO-RE relocations for field accesses.
//
// The kfunc prototypes come last, as bpftool >= 7.5 emits them for FUNCs carrying the `bpf_kfunc`
// decl tag: `extern <prototype> __weak __ksym;` inside `#ifndef BPF_NO_KFUNC_PROTOTYPES`, sorted by
// name (a program that declares its own kfunc externs defines BPF_NO_KFUNC_PROTOTYPES first). Older
// bpftool (7.1, Debian 12) writes neither that section nor the __ksym/__weak/__bpf_fastcall macros;
// everything else is the same text.
//
// Limits (none occur in vxo's kernel BTF): no name de-duplication (`___2` suffixes), no
// __attribute__((aligned)) emission, no ENUM64 of size other than 8.
import type { Btf } from './btf.ts';
import type { BtfType } from './types.ts';

const KFUNC_DECL_TAG = 'bpf_kfunc';
const PTR_SIZE = 8;

const enum Order { NOT, ORDERING, ORDERED }
const enum Emit { NOT, EMITTING, EMITTED }

const pfx = (lvl: number): string => '\t'.repeat(lvl);

class BtfDumpC {
  private out = '';
  private readonly order: Order[];
  private readonly emit: Emit[];
  private readonly fwdEmitted: boolean[];
  private readonly referenced: boolean[];
  private queue: number[] = [];

  constructor(private readonly btf: Btf) {
    const n = btf.types.length;
    this.order = new Array<Order>(n).fill(Order.NOT);
    this.emit = new Array<Emit>(n).fill(Emit.NOT);
    this.fwdEmitted = new Array<boolean>(n).fill(false);
    this.referenced = new Array<boolean>(n).fill(false);
    this.markReferenced();
    // void is always "defined".
    this.order[0] = Order.ORDERED;
    this.emit[0] = Emit.EMITTED;
  }

  private t(id: number): BtfType {
    const t = this.btf.type(id);
    if (!t) throw new RangeError(`btf_dump: no type ${id}`);
    return t;
  }

  private p(s: string): void {
    this.out += s;
  }

  private markReferenced(): void {
    const mark = (id: number): void => {
      this.referenced[id] = true;
    };
    for (const t of this.btf.types) {
      if (!t) continue;
      switch (t.kind) {
        case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': case 'func': case 'var': case 'decl_tag':
          mark(t.type);
          break;
        case 'array':
          mark(t.type);
          mark(t.indexType);
          break;
        case 'struct': case 'union':
          for (const m of t.members) mark(m.type);
          break;
        case 'func_proto':
          mark(t.returnType);
          for (const p of t.params) mark(p.type);
          break;
        case 'datasec':
          for (const v of t.vars) mark(v.type);
          break;
        default:
          break;
      }
    }
  }

  /** btf_dump__dump_type. */
  dumpType(id: number): void {
    this.queue = [];
    this.orderType(id, false);
    for (const q of this.queue) this.emitType(q, 0);
  }

  /** btf_dump_order_type: 1 when the type is a strong (by-value) dependency that is now ordered. */
  private orderType(id: number, throughPtr: boolean): number {
    if (id === 0) return 0;
    const t = this.t(id);
    if (this.order[id] === Order.ORDERED) return 1;
    if (this.order[id] === Order.ORDERING) {
      if ((t.kind === 'struct' || t.kind === 'union') && throughPtr && t.name !== '') return 0;
      throw new Error(`btf_dump: unsatisfiable type cycle, id:[${id}]`);
    }
    switch (t.kind) {
      case 'int': case 'float':
        this.order[id] = Order.ORDERED;
        return 0;
      case 'ptr': {
        const r = this.orderType(t.type, true);
        this.order[id] = Order.ORDERED;
        return r;
      }
      case 'array':
        return this.orderType(t.type, false);
      case 'struct': case 'union':
        // Embedded (no pointer on the way) or anonymous: its definition must come first.
        if (throughPtr && t.name !== '') return 0;
        this.order[id] = Order.ORDERING;
        for (const m of t.members) this.orderType(m.type, false);
        if (t.name !== '') this.queue.push(id);
        this.order[id] = Order.ORDERED;
        return 1;
      case 'enum': case 'enum64': case 'fwd':
        if (t.name !== '' || !this.referenced[id]) this.queue.push(id);
        this.order[id] = Order.ORDERED;
        return 1;
      case 'typedef': {
        const strong = this.orderType(t.type, throughPtr);
        if (throughPtr && strong === 0) return 0;
        this.queue.push(id);
        this.order[id] = Order.ORDERED;
        return 1;
      }
      case 'volatile': case 'const': case 'restrict': case 'type_tag':
        return this.orderType(t.type, throughPtr);
      case 'func_proto': {
        let strong = this.orderType(t.returnType, throughPtr);
        for (const p of t.params) if (this.orderType(p.type, throughPtr) > 0) strong = 1;
        return strong;
      }
      case 'func': case 'var': case 'datasec': case 'decl_tag':
        this.order[id] = Order.ORDERED;
        return 0;
    }
  }

  /** btf_dump_emit_type: definitions (contId 0: top level) and the forward declarations they need. */
  private emitType(id: number, contId: number): void {
    if (this.emit[id] === Emit.EMITTED) return;
    const t = this.t(id);
    const topLevel = contId === 0;
    if (this.emit[id] === Emit.EMITTING) {
      if (this.fwdEmitted[id]) return;
      if (t.kind === 'struct' || t.kind === 'union') {
        if (id === contId) return;
        if (t.name === '') return;
        this.p(`${t.kind} ${t.name};\n\n`);
        this.fwdEmitted[id] = true;
      } else if (t.kind === 'typedef') {
        this.emitTypedefDef(t.name, t.type, 0);
        this.p(';\n\n');
        this.fwdEmitted[id] = true;
      }
      return;
    }
    switch (t.kind) {
      case 'int': case 'float':
        this.emit[id] = Emit.EMITTED;
        break;
      case 'enum': case 'enum64':
        if (topLevel) {
          this.emitEnumDef(t, 0);
          this.p(';\n\n');
        }
        this.emit[id] = Emit.EMITTED;
        break;
      case 'ptr': case 'volatile': case 'const': case 'restrict': case 'type_tag':
        this.emitType(t.type, contId);
        break;
      case 'array':
        this.emitType(t.type, contId);
        break;
      case 'fwd':
        this.p(`${t.union ? 'union' : 'struct'} ${t.name};\n\n`);
        this.emit[id] = Emit.EMITTED;
        break;
      case 'typedef':
        this.emit[id] = Emit.EMITTING;
        this.emitType(t.type, id);
        // A typedef is its own forward declaration: emitted now unless a cycle already did.
        if (!this.fwdEmitted[id]) {
          this.emitTypedefDef(t.name, t.type, 0);
          this.p(';\n\n');
        }
        this.emit[id] = Emit.EMITTED;
        break;
      case 'struct': case 'union':
        this.emit[id] = Emit.EMITTING;
        if (topLevel || t.name === '') {
          const cont = t.name === '' ? contId : id;
          for (const m of t.members) this.emitType(m.type, cont);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.p(`${t.kind} ${t.name};\n\n`);
          this.fwdEmitted[id] = true;
        }
        if (topLevel) {
          this.emitStructDef(id, t, 0);
          this.p(';\n\n');
          this.emit[id] = Emit.EMITTED;
        } else {
          this.emit[id] = Emit.NOT;
        }
        break;
      case 'func_proto':
        this.emitType(t.returnType, contId);
        for (const p of t.params) this.emitType(p.type, contId);
        break;
      default:
        break;
    }
  }

  private emitTypedefDef(name: string, type: number, lvl: number): void {
    this.p('typedef ');
    this.emitTypeDecl(type, name, lvl);
  }

  private emitEnumDef(t: Extract<BtfType, { kind: 'enum' | 'enum64' }>, lvl: number): void {
    this.p(`enum${t.name !== '' ? ' ' : ''}${t.name}`);
    if (t.values.length === 0) return;
    this.p(' {');
    for (const v of t.values) this.p(`\n${pfx(lvl + 1)}${v.name} = ${v.value},`);
    this.p(`\n${pfx(lvl)}}`);
    if (t.size === 1) this.p(' __attribute__((mode(byte)))');
    else if (t.size === 2) this.p(' __attribute__((mode(word)))');
    else if (t.size === 8 && t.kind === 'enum') this.p(' __attribute__((mode(DI)))');
  }

  /** btf__align_of. */
  private alignOf(id: number): number {
    const t = this.t(id);
    switch (t.kind) {
      case 'int': case 'enum': case 'enum64': case 'float':
        return Math.min(PTR_SIZE, t.size);
      case 'ptr':
        return PTR_SIZE;
      case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
        return this.alignOf(t.type);
      case 'array':
        return this.alignOf(t.type);
      case 'struct': case 'union': {
        let max = 1;
        for (const m of t.members) {
          const a = this.alignOf(m.type);
          max = Math.max(max, a);
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
        }
        if (t.size % max !== 0) return 1;
        return max;
      }
      default:
        throw new Error(`btf_dump: unsupported kind ${t.kind} for alignment, id:[${id}]`);
    }
  }

  private isPacked(t: Extract<BtfType, { kind: 'struct' | 'union' }>): boolean {
    let max = 1;
    for (const m of t.members) {
      const a = this.alignOf(m.type);
      if (a !== 0 && m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return true;
      max = Math.max(max, a);
    }
    return t.size % max !== 0;
  }

  /** btf_dump_emit_bit_padding (libbpf >= 1.1). */
  private emitBitPadding(cur: number, next: number, nextAlign: number, inBitfield: boolean, lvl: number): void {
    if (cur >= next) return;
    const pads: readonly (readonly [string, number])[] = [['long', PTR_SIZE * 8], ['int', 32], ['short', 16], ['char', 8]];
    let padType = 'char', padBits = 8, newOff = cur;
    for (const [name, bits] of pads) {
      padType = name;
      padBits = bits;
      newOff = roundUp(cur, bits);
      if (newOff <= next) break;
    }
    if (newOff > cur && newOff <= next) {
      if (inBitfield || (newOff === next && roundUp(cur, nextAlign * 8) !== newOff) || (newOff !== next && next - newOff <= newOff - cur)) {
        this.p(`\n${pfx(lvl)}${padType}: ${inBitfield ? newOff - cur : 0};`);
      }
      cur = newOff;
    }
    while (cur !== next) {
      const bits = Math.min(next - cur, padBits);
      if (bits === padBits) {
        this.p(`\n${pfx(lvl)}${padType}: ${padBits};`);
        cur += bits;
        continue;
      }
      for (let i = pads.length - 1; i >= 0; i--) {
        const [name, pb] = pads[i]!;
        if (pb < bits) continue;
        this.p(`\n${pfx(lvl)}${name}: ${bits};`);
        cur += bits;
        break;
      }
    }
  }

  private emitStructDef(id: number, t: Extract<BtfType, { kind: 'struct' | 'union' }>, lvl: number): void {
    const isStruct = t.kind === 'struct';
    const packed = isStruct && this.isPacked(t);
    this.p(`${t.kind}${t.name !== '' ? ' ' : ''}${t.name} {`);
    let off = 0, prevBitfield = false;
    for (const m of t.members) {
      const align = packed ? 1 : this.alignOf(m.type);
      const inBitfield = prevBitfield && m.bitfieldSize !== 0;
      this.emitBitPadding(off, m.bitOffset, align, inBitfield, lvl + 1);
      this.p(`\n${pfx(lvl + 1)}`);
      this.emitTypeDecl(m.type, m.name, lvl + 1);
      if (m.bitfieldSize !== 0) {
        this.p(`: ${m.bitfieldSize}`);
        off = m.bitOffset + m.bitfieldSize;
        prevBitfield = true;
      } else {
        off = m.bitOffset + this.btf.sizeOf(m.type) * 8;
        prevBitfield = false;
      }
      this.p(';');
    }
    if (isStruct) this.emitBitPadding(off, t.size * 8, packed ? 1 : this.alignOf(id), false, lvl + 1);
    if (t.members.length > 0) this.p('\n');
    this.p(`${pfx(lvl)}}`);
    if (packed) this.p(' __attribute__((packed))');
  }

  /** btf_dump_emit_type_decl: `<type> <name>` in C declarator syntax. */
  emitTypeDecl(id: number, fname: string, lvl: number): void {
    const stack: number[] = [];
    for (;;) {
      stack.push(id);
      if (id === 0) break;
      const t = this.t(id);
      if (t.kind === 'ptr' || t.kind === 'volatile' || t.kind === 'const' || t.kind === 'restrict' || t.kind === 'type_tag') id = t.type;
      else if (t.kind === 'func_proto') id = t.returnType;
      else if (t.kind === 'array') id = t.type;
      else break;
    }
    this.emitTypeChain(stack, fname, lvl);
  }

  private isMod(id: number): boolean {
    const k = id === 0 ? undefined : this.t(id).kind;
    return k === 'volatile' || k === 'const' || k === 'restrict' || k === 'type_tag';
  }

  private emitMods(stack: number[]): void {
    while (stack.length > 0) {
      const id = stack[stack.length - 1]!;
      const k = id === 0 ? undefined : this.t(id).kind;
      if (k === 'volatile') this.p('volatile ');
      else if (k === 'const') this.p('const ');
      else if (k === 'restrict') this.p('restrict ');
      else return;
      stack.pop();
    }
  }

  private emitName(fname: string, lastWasPtr: boolean): void {
    this.p(`${fname !== '' && !lastWasPtr ? ' ' : ''}${fname}`);
  }

  private emitTypeChain(stack: number[], fname: string, lvl: number): void {
    let lastWasPtr = true;
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (id === 0) {
        this.emitMods(stack);
        this.p('void');
        lastWasPtr = false;
        continue;
      }
      const t = this.t(id);
      switch (t.kind) {
        case 'int': case 'float':
          this.emitMods(stack);
          this.p(t.name);
          break;
        case 'struct': case 'union':
          this.emitMods(stack);
          if (t.name === '') this.emitStructDef(id, t, lvl);
          else this.p(`${t.kind} ${t.name}`);
          break;
        case 'enum': case 'enum64':
          this.emitMods(stack);
          if (t.name === '') this.emitEnumDef(t, lvl);
          else this.p(`enum ${t.name}`);
          break;
        case 'fwd':
          this.emitMods(stack);
          this.p(`${t.union ? 'union' : 'struct'} ${t.name}`);
          break;
        case 'typedef':
          this.emitMods(stack);
          this.p(t.name);
          break;
        case 'ptr':
          this.p(lastWasPtr ? '*' : ' *');
          break;
        case 'volatile':
          this.p(' volatile');
          break;
        case 'const':
          this.p(' const');
          break;
        case 'restrict':
          this.p(' restrict');
          break;
        case 'type_tag':
          break;
        case 'array': {
          // Qualifiers on an array's element are dropped (GCC's redundant ones), as btf_dump does.
          while (stack.length > 0 && this.isMod(stack[stack.length - 1]!)) stack.pop();
          if (stack.length === 0) {
            this.emitName(fname, lastWasPtr);
            this.p(`[${t.nelems}]`);
            return;
          }
          const next = stack[stack.length - 1]!;
          const multidim = next !== 0 && this.t(next).kind === 'array';
          if (fname !== '' && !lastWasPtr) this.p(' ');
          if (!multidim) this.p('(');
          this.emitTypeChain(stack, fname, lvl);
          if (!multidim) this.p(')');
          this.p(`[${t.nelems}]`);
          return;
        }
        case 'func_proto': {
          while (stack.length > 0 && this.isMod(stack[stack.length - 1]!)) stack.pop();
          if (stack.length > 0) {
            this.p(' (');
            this.emitTypeChain(stack, fname, lvl);
            this.p(')');
          } else {
            this.emitName(fname, lastWasPtr);
          }
          this.p('(');
          // clang writes `f(void)` as one void parameter; an empty list is printed as (void) too.
          if (t.params.length === 0 || (t.params.length === 1 && t.params[0]!.type === 0)) {
            this.p('void)');
            return;
          }
          t.params.forEach((prm, i) => {
            if (i > 0) this.p(', ');
            if (i === t.params.length - 1 && prm.type === 0) {
              this.p('...');
              return;
            }
            this.emitTypeDecl(prm.type, prm.name, lvl);
          });
          this.p(')');
          return;
        }
        default:
          throw new Error(`btf_dump: unexpected ${t.kind} in a declaration, id:[${id}]`);
      }
      lastWasPtr = t.kind === 'ptr';
    }
    this.emitName(fname, lastWasPtr);
  }

  /** dump_btf_kfuncs: the `bpf_kfunc`-tagged FUNCs as `extern ... __weak __ksym;`, sorted by name. */
  private kfuncs(): void {
    const funcs: Extract<BtfType, { kind: 'func' }>[] = [];
    for (const t of this.btf.types) {
      if (t?.kind !== 'decl_tag' || t.componentIdx !== -1 || t.name !== KFUNC_DECL_TAG) continue;
      const f = this.btf.type(t.type);
      if (f?.kind === 'func') funcs.push(f);
    }
    funcs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.p('\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n');
    for (const f of funcs) {
      this.p('extern ');
      this.emitTypeDecl(f.type, f.name, 0);
      this.p(' __weak __ksym;\n');
    }
    this.p('#endif\n\n');
  }

  /** dump_btf_c: the whole header. */
  header(): string {
    this.out = '';
    this.p('#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n');
    this.p('#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n');
    this.p('#ifndef __ksym\n#define __ksym __attribute__((section(".ksyms")))\n#endif\n\n');
    this.p('#ifndef __weak\n#define __weak __attribute__((weak))\n#endif\n\n');
    this.p('#ifndef __bpf_fastcall\n#if __has_attribute(bpf_fastcall)\n#define __bpf_fastcall __attribute__((bpf_fastcall))\n#else\n#define __bpf_fastcall\n#endif\n#endif\n\n');
    for (let id = 1; id < this.btf.types.length; id++) this.dumpType(id);
    this.kfuncs();
    this.p('#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n');
    return this.out;
  }
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** The vmlinux.h text for `btf` (bpftool btf dump file F format c unsorted, bpftool >= 7.5). */
export function dumpBtfC(btf: Btf): string {
  return new BtfDumpC(btf).header();
}

/**
 * The parts bpftool 7.1 (libbpf 1.1) does not write: the __ksym/__weak/__bpf_fastcall macro block and
 * the kfunc section. What remains of dumpBtfC()'s text is then that bpftool's output byte for byte.
 */
export function withoutBpftool75Additions(header: string): string {
  return header
    .replace(/#ifndef __ksym\n[\s\S]*?#endif\n#endif\n\n/, '')
    .replace(/\n\/\* BPF kfuncs \*\/\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n[\s\S]*?#endif\n\n/, '');
}
