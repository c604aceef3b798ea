// The kernel side of the SK_LOOKUP and socket-verifier comparisons: a small loader (built with
// clang on first use) that loads raw instructions with the expected_attach_type a type needs
// (BPF_SK_LOOKUP for SK_LOOKUP, which test/support/bpf-load.c does not set), creates the maps the
// program names (fds 3, 4, ... as vxo's FdTable numbers them) and, given a ctx_in, runs
// BPF_PROG_TEST_RUN: the verdict, the verifier's log, the run's errno, retval and ctx_out.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOADER_C = String.raw`
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#define LOG_SIZE (1 << 22)
static long sys_bpf(int cmd, union bpf_attr *a) { return syscall(__NR_bpf, cmd, a, sizeof(*a)); }
static int hexval(char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }
static size_t unhex(const char *h, uint8_t *out, size_t max) {
  size_t n = strlen(h) / 2;
  for (size_t i = 0; i < n && i < max; i++) out[i] = hexval(h[2 * i]) << 4 | hexval(h[2 * i + 1]);
  return n;
}
int main(int argc, char **argv) {
  if (argc < 7) { fprintf(stderr, "usage: PROG_TYPE ATTACH LOG_LEVEL INSNS_HEX CTX_HEX|- REPEAT [TYPE:K:V:N:FLAGS ...]\n"); return 1; }
  unsigned type = strtoul(argv[1], 0, 0), attach = strtoul(argv[2], 0, 0), level = strtoul(argv[3], 0, 0);
  static uint8_t insns[1 << 20];
  size_t n = unhex(argv[4], insns, sizeof(insns));
  int fds[16]; int nmaps = 0;
  for (int a = 7; a < argc && nmaps < 16; a++) {
    unsigned t = 0, k = 0, v = 0, e = 0, f = 0; sscanf(argv[a], "%u:%u:%u:%u:%u", &t, &k, &v, &e, &f);
    union bpf_attr m; memset(&m, 0, sizeof(m));
    m.map_type = t; m.key_size = k; m.value_size = v; m.max_entries = e; m.map_flags = f;
    fds[nmaps] = sys_bpf(BPF_MAP_CREATE, &m);
    if (fds[nmaps] < 0) { printf("map %d\n", errno); return 0; }
    nmaps++;
  }
  struct bpf_insn *in = (struct bpf_insn *)insns;
  for (size_t i = 0; i + 1 < n / 8; i++) {
    if (in[i].code != (BPF_LD | BPF_IMM | BPF_DW)) continue;
    if (in[i].src_reg == BPF_PSEUDO_MAP_FD && in[i].imm >= 3 && in[i].imm < 3 + nmaps) in[i].imm = fds[in[i].imm - 3];
    i++;
  }
  char *log = malloc(LOG_SIZE); log[0] = 0;
  union bpf_attr attr; memset(&attr, 0, sizeof(attr));
  attr.prog_type = type; attr.expected_attach_type = attach;
  attr.insns = (uint64_t)(uintptr_t)insns; attr.insn_cnt = n / 8;
  attr.license = (uint64_t)(uintptr_t)"GPL";
  if (level) { attr.log_level = level; attr.log_buf = (uint64_t)(uintptr_t)log; attr.log_size = LOG_SIZE; }
  long fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) printf("rejected %d\n", errno); else printf("accepted\n");
  if (fd >= 0 && strcmp(argv[5], "-") != 0) {
    static uint8_t ctx[4096], out[4096];
    size_t cn = unhex(argv[5], ctx, sizeof(ctx));
    union bpf_attr t; memset(&t, 0, sizeof(t));
    t.test.prog_fd = fd; t.test.ctx_in = (uint64_t)(uintptr_t)ctx; t.test.ctx_size_in = cn;
    t.test.ctx_out = (uint64_t)(uintptr_t)out; t.test.ctx_size_out = sizeof(out);
    t.test.repeat = strtoul(argv[6], 0, 0);
    long r = sys_bpf(BPF_PROG_TEST_RUN, &t);
    printf("run %d %u ", r < 0 ? errno : 0, t.test.retval);
    for (unsigned i = 0; r >= 0 && i < t.test.ctx_size_out && i < sizeof(out); i++) printf("%02x", out[i]);
    printf("\n");
  } else {
    printf("run -\n");
  }
  fputs(log, stdout);
  return 0;
}
`;

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM', 2: 'ENOENT', 7: 'E2BIG', 13: 'EACCES', 14: 'EFAULT', 22: 'EINVAL', 34: 'ERANGE',
  95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT', 524: 'ENOTSUPP',
};
const errnoName = (n: number): string => ERRNO_NAMES[n] ?? `E${n}`;

/** bpf_attach_type a program type needs at load (BPF_SK_LOOKUP = 36 for SK_LOOKUP). */
export function expectedAttachType(progType: number): number {
  return progType === 30 ? 36 : 0;
}

let loader: string | undefined;

function loaderPath(): string {
  if (loader !== undefined && existsSync(loader)) return loader;
  const dir = mkdtempSync(join(tmpdir(), 'vxo-sk-load-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'sk-load.c');
  writeFileSync(src, LOADER_C);
  const bin = join(dir, 'sk-load');
  const r = spawnSync('clang', ['-O2', '-Wall', '-o', bin, src], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`cannot build the sk_lookup loader: ${r.stderr || r.error?.message}`);
  loader = bin;
  return bin;
}

export interface KernelSkRun {
  errno: string | undefined;
  retval: number;
  ctxOut: Uint8Array;
}

export interface KernelSkLoadResult {
  accepted: boolean;
  /** The load's errno when refused. */
  errno: string | undefined;
  log: string;
  run: KernelSkRun | undefined;
}

export interface KernelSkLoadOptions {
  progType: number;
  logLevel?: number;
  /** Maps as [type, key_size, value_size, max_entries, flags], in fd order (3, 4, ...). */
  maps?: readonly (readonly [number, number, number, number, number])[];
  ctxIn?: Uint8Array;
  repeat?: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function kernelSkLoad(insns: readonly { code: number; dst: number; src: number; off: number; imm: number }[], opts: KernelSkLoadOptions): KernelSkLoadResult {
  const bytes = new Uint8Array(insns.length * 8);
  const dv = new DataView(bytes.buffer);
  insns.forEach((ins, i) => {
    dv.setUint8(i * 8, ins.code & 0xff);
    dv.setUint8(i * 8 + 1, ((ins.src & 0x0f) << 4) | (ins.dst & 0x0f));
    dv.setInt16(i * 8 + 2, ins.off, true);
    dv.setInt32(i * 8 + 4, ins.imm | 0, true);
  });
  const maps = (opts.maps ?? []).map((m) => m.join(':'));
  const args = [String(opts.progType), String(expectedAttachType(opts.progType)), String(opts.logLevel ?? 1), hex(bytes),
    opts.ctxIn === undefined ? '-' : hex(opts.ctxIn), String(opts.repeat ?? 0), ...maps];
  const r = spawnSync(loaderPath(), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error || r.status !== 0) throw new Error(`sk-load failed: ${r.stderr || r.error?.message}`);
  const lines = r.stdout.split('\n');
  const head = lines[0] ?? '';
  const mapErr = /^map (\d+)$/.exec(head);
  if (mapErr) throw new Error(`the kernel refused to create a map: ${errnoName(Number(mapErr[1]))}`);
  const rej = /^rejected (\d+)$/.exec(head);
  const runLine = /^run (\d+) (\d+) ([0-9a-f]*)$/.exec(lines[1] ?? '');
  const run = runLine ? {
    errno: runLine[1] === '0' ? undefined : errnoName(Number(runLine[1])),
    retval: Number(runLine[2]),
    ctxOut: Uint8Array.from(Buffer.from(runLine[3]!, 'hex')),
  } : undefined;
  return { accepted: head === 'accepted', errno: rej ? errnoName(Number(rej[1])) : undefined, log: lines.slice(2).join('\n'), run };
}
