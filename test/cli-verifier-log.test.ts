// `vxo prog verify --log-level` and `vxo prog dump` with source lines, as a user runs them (the
// build: bin/vxo.js runs dist/).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, XDP_DIR } from './support/vm.ts';

function vxo(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/vxo.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const XDP1 = `${XDP_DIR}xdp1.o`;
const CLOSING = /^processed \d+ insns \(limit 1000000\) max_states_per_insn \d+ total_states \d+ peak_states \d+ mark_read 0$/;

test('prog verify: level 1 (the default) of an accepted program prints the closing line alone', (t) => {
  const r = vxo(['prog', 'verify', XDP1]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout.trimEnd(), CLOSING);
  t.is(r.stdout.trimEnd().split('\n').length, 1);
});

test('prog verify --log-level 4, 5 and 6: the statistics lines as the kernel prints them', (t) => {
  for (const level of ['4', '5']) {
    const r = vxo(['prog', 'verify', XDP1, '--log-level', level]);
    t.is(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    t.is(lines.length, 3);
    t.regex(lines[0]!, /^verification time \d+ usec$/);
    t.is(lines[1], 'stack depth 8');
    t.regex(lines[2]!, CLOSING);
  }
  const six = vxo(['prog', 'verify', XDP1, '--log-level', '6']);
  t.is(six.status, 0, six.stderr);
  t.regex(six.stdout, /\n; void \*data = \(void \*\)\(long\)ctx->data; @ xdp1\.c:23\n1: \(61\) r1 = /);
  t.regex(six.stdout, /\nverification time \d+ usec\nstack depth 8\nprocessed \d+ insns/);
  const bad = vxo(['prog', 'verify', XDP1, '--log-level', '8']);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /--log-level must be 1, 2 or 4, or a sum of them/);
});

test('prog verify: an infinite loop is refused with the kernel\'s message after 32 instructions', (t) => {
  const r = vxo(['prog', 'verify', join(REPO_ROOT, 'test/fixtures/verifier-log/infinite_loop.o')]);
  t.is(r.status, 1);
  t.regex(r.stdout, /\n; i\+\+; @ infinite_loop\.c:15\ninfinite loop detected at insn 6\ncur state: /);
  t.regex(r.stdout, /\nprocessed 32 insns /);
  t.regex(r.stderr, /verifier rejected infinite_loop: infinite loop detected at insn 6/);
});

test('prog dump prints each source line before the instruction it starts, as bpftool prog dump xlated linum', (t) => {
  const r = vxo(['prog', 'dump', XDP1]);
  t.is(r.status, 0, r.stderr);
  t.true(r.stdout.includes('; void *data_end = (void *)(long)ctx->data_end; [file:./xdp1.c line_num:22 line_col:38]\n    0: (61) r2 = *(u32 *)(r1 + 4)\n' +
    '; void *data = (void *)(long)ctx->data; [file:./xdp1.c line_num:23 line_col:34]\n    1: (61) r1 = *(u32 *)(r1 + 0)\n' +
    '; if (data + off > data_end) [file:././proto_parse.h line_num:47 line_col:11]\n    2: (bf) r3 = r1\n    3: (07) r3 += 14\n' +
    '; if (data + off > data_end) [file:././proto_parse.h line_num:47 line_col:6]\n    4: (2d) if r3 > r2 goto +50\n'), r.stdout);
});
