// Golden files pin the JavaScript the JIT generates for small programs, so that code-generation
// changes show up in review. Regenerate with VXO_UPDATE_GOLDEN=1 after an intended change.
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { assemble } from '../bpf-vm/asm/assembler.ts';
import { jitSource } from '../bpf-vm/jit/dump.ts';
import { planStructure } from '../bpf-vm/jit/structure.ts';
import { prepareProgram } from '../bpf-vm/prog/prepare.ts';
import { loadObjectFile } from '../bpf-vm/index.ts';
import { runPlain } from '../bpf-vm/prog/plain-run.ts';
import { BPF_PROG_TYPE } from '../bpf-vm/prog/types.ts';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

const PROGRAMS: Record<string, string> = {
  // Straight-line 64-bit arithmetic with folded immediates.
  alu: 'mov %r0, 7\nlsh %r0, 40\nadd %r0, -1\nmov32 %r1, 3\nmul32 %r1, %r0\nxor %r0, %r1\nexit',
  // A bounded loop: a labelled for(;;) with continue, and a forward exit block.
  loop: 'mov %r0, 0\nmov %r1, 10\nl:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, l\nexit',
  // A bpf-to-bpf call: a JavaScript function per bpf function.
  call: 'mov %r1, 5\ncall local f\nadd %r0, 1\nexit\nf:\nmov %r0, %r1\nlsh %r0, 1\nexit',
  // Entering a loop in its middle is irreducible in this layout: the dispatch fallback.
  irreducible: 'mov %r0, 0\nja mid\ntop:\nadd %r0, 1\nmid:\nadd %r0, 2\njlt %r0, 10, top\nexit',
  // A checked load from the input memory (no verifier facts for plain programs).
  load: 'ldxh %r0, [%r1+2]\njeq %r0, 0, out\nadd %r0, 1\nout:\nexit',
};

for (const [name, src] of Object.entries(PROGRAMS)) {
  test(`jit source of '${name}' matches test/fixtures/jit/${name}.js`, (t) => {
    const prog = prepareProgram({ type: BPF_PROG_TYPE.BPF_PROG_TYPE_UNSPEC, insns: assemble(src), helpers: new Map() });
    const source = jitSource(prog);
    const file = `${REPO_ROOT}test/fixtures/jit/${name}.js`;
    if (process.env.VXO_UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, source);
    t.is(source, readFileSync(file, 'utf8'));
    // The pinned code also computes what the interpreter computes.
    const mem = new Uint8Array([0, 0, 3, 0]);
    t.is(runPlain(assemble(src), mem, { engine: 'jit' }), runPlain(assemble(src), mem, { engine: 'interp' }));
  });
}

test('structure planning: loops nest, irreducible entries are refused', (t) => {
  const plan = (src: string) => {
    const p = prepareProgram({ type: BPF_PROG_TYPE.BPF_PROG_TYPE_UNSPEC, insns: assemble(src), helpers: new Map() });
    return planStructure(p, 0, p.len - 1);
  };
  t.deepEqual(plan(PROGRAMS.loop!)?.constructs, [{ kind: 'loop', from: 2, to: 4, label: 2 }]);
  t.is(plan(PROGRAMS.irreducible!), undefined);
  const nested = plan('mov %r0, 0\nmov %r1, 3\no:\nmov %r2, 3\ni:\nadd %r0, 1\nsub %r2, 1\njne %r2, 0, i\nsub %r1, 1\njne %r1, 0, o\nexit');
  t.deepEqual(nested?.constructs.map((c) => [c.kind, c.from, c.to]), [['loop', 2, 7], ['loop', 3, 5]]);
});

test('bpf_redirect_map on a constant DEVMAP is a direct call, no argument spill; a map looked up otherwise keeps the helper', (t) => {
  const p = loadObjectFile(`${REPO_ROOT}scenarios/xdp/redirect.o`).program();
  const source = jitSource(prepareProgram({ type: p.type, insns: p.insns, fds: p.fds }));
  t.regex(source, /r0l = RTM\(env, MO\[\d+\], r2l, r3l, r3h\); r0h = 0;/);
  t.false(source.includes('.impl(env)'), 'redirect.o has no helper call left (its ARRAY lookup is inlined too)');
  // r1 loaded from a map value, not a map pointer: the JIT cannot tell the map, the helper resolves it.
  const generic = assemble('ldxdw %r1, [%r10-8]\nmov %r2, 0\nmov %r3, 0\ncall 51\nexit');
  const g = jitSource(prepareProgram({ type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, insns: generic }));
  t.false(g.includes('RTM('));
});

test('a program too long for V8 to optimise as one function (tcp_custom_syncookie) is split into chunks', (t) => {
  const prog = loadObjectFile(`${REPO_ROOT}scenarios/sk/tcp_custom_syncookie.o`).program('tcp_custom_syncookie');
  const source = jitSource(prepareProgram({ type: prog.type, insns: prog.insns, fds: prog.fds }));
  t.regex(source, /^\/\/ vxo JIT: \d+ insns, dispatch control flow in \d+ functions/);
  t.regex(source, /^function c1\(pc, base\) \{$/m);
  for (const f of source.split(/^function /m).slice(1)) t.true(f.length < 96_000);
});
