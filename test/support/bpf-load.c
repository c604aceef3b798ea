// Loads raw BPF instructions into the kernel with the bpf() syscall, for test/support/kernel.ts's
// kernelVerifyInsns: programs that no ELF object can carry (jumps into an ld_imm64, unknown
// src_reg, fds that are not maps, a million and one instructions) go to the kernel's verifier
// exactly as written. Built on demand with the host clang: clang -O2 -o bpf-load bpf-load.c
//
// usage: bpf-load [--no-perfmon] PROG_TYPE LOG_LEVEL INSNS_FILE [TYPE:KEY:VALUE:ENTRIES:FLAGS ...]
//   --no-perfmon: after creating the maps, drop CAP_SYS_ADMIN and CAP_PERFMON and load with
//   CAP_BPF + CAP_NET_ADMIN only. The verifier then runs without perfmon's relaxations (reads of
//   uninitialised stack, pointer leaks, Spectre v1 checks bypassed): the mode for a loader that
//   may load networking programs but is not trusted with kernel memory.
//   INSNS_FILE holds struct bpf_insn records. Each map spec creates a map; an ld_imm64 with
//   src_reg BPF_PSEUDO_MAP_FD (1) or BPF_PSEUDO_MAP_VALUE (2) whose imm is 3 + i names the i-th
//   map (the fds vxo's FdTable hands out) and is patched to the kernel's fd. Other imms stay as
//   they are, so a program can name an fd that is not a map.
// output: the first line is "accepted" or "rejected ERRNO", the verifier log follows.
// exit status: 0 when the kernel answered (accepted or not), 1 when this tool failed.
#include <errno.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_SIZE (64u << 20)
#define MAX_MAPS 64

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static void drop_perfmon(void) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof(data));
  if (syscall(SYS_capget, &hdr, data) != 0) {
    fprintf(stderr, "bpf-load: capget: %s\n", strerror(errno));
    exit(1);
  }
  const int drop[] = {CAP_SYS_ADMIN, CAP_PERFMON};
  for (unsigned i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
    unsigned w = (unsigned)drop[i] / 32, bit = 1u << ((unsigned)drop[i] % 32);
    data[w].effective &= ~bit;
    data[w].permitted &= ~bit;
    data[w].inheritable &= ~bit;
  }
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  hdr.pid = 0;
  if (syscall(SYS_capset, &hdr, data) != 0) {
    fprintf(stderr, "bpf-load: capset: %s\n", strerror(errno));
    exit(1);
  }
}

static int create_map(const char *spec) {
  unsigned type, key, value, entries, flags;
  if (sscanf(spec, "%u:%u:%u:%u:%u", &type, &key, &value, &entries, &flags) != 5) {
    fprintf(stderr, "bpf-load: bad map spec '%s'\n", spec);
    exit(1);
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.map_type = type;
  attr.key_size = key;
  attr.value_size = value;
  attr.max_entries = entries;
  attr.map_flags = flags;
  int fd = (int)sys_bpf(BPF_MAP_CREATE, &attr);
  if (fd < 0) {
    fprintf(stderr, "bpf-load: map create '%s': %s\n", spec, strerror(errno));
    exit(1);
  }
  return fd;
}

static struct bpf_insn *read_insns(const char *path, size_t *count) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "bpf-load: %s: %s\n", path, strerror(errno));
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (size <= 0 || size % sizeof(struct bpf_insn) != 0) {
    fprintf(stderr, "bpf-load: %s: size %ld is not a positive multiple of 8\n", path, size);
    exit(1);
  }
  struct bpf_insn *insns = malloc((size_t)size);
  if (!insns || fread(insns, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "bpf-load: cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  *count = (size_t)size / sizeof(struct bpf_insn);
  return insns;
}

static long load(unsigned type, unsigned level, struct bpf_insn *insns, size_t n, char *log, int *err) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = type;
  /* SK_LOOKUP programs load only with their attach type (BPF_SK_LOOKUP). */
  if (type == 30) attr.expected_attach_type = 36;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)n;
  attr.license = (uint64_t)(uintptr_t) "GPL";
  if (level > 0) {
    log[0] = 0;
    attr.log_level = level;
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = LOG_SIZE;
  }
  long fd = sys_bpf(BPF_PROG_LOAD, &attr);
  *err = fd < 0 ? errno : 0;
  return fd;
}

int main(int argc, char **argv) {
  int no_perfmon = 0;
  if (argc > 1 && strcmp(argv[1], "--no-perfmon") == 0) {
    no_perfmon = 1;
    argv++;
    argc--;
  }
  if (argc < 4) {
    fprintf(stderr, "usage: bpf-load [--no-perfmon] PROG_TYPE LOG_LEVEL INSNS_FILE [TYPE:KEY:VALUE:ENTRIES:FLAGS ...]\n");
    return 1;
  }
  unsigned type = (unsigned)strtoul(argv[1], NULL, 0);
  unsigned level = (unsigned)strtoul(argv[2], NULL, 0);
  size_t n;
  struct bpf_insn *insns = read_insns(argv[3], &n);
  int fds[MAX_MAPS];
  int nmaps = argc - 4;
  if (nmaps > MAX_MAPS) {
    fprintf(stderr, "bpf-load: at most %d maps\n", MAX_MAPS);
    return 1;
  }
  for (int i = 0; i < nmaps; i++) fds[i] = create_map(argv[4 + i]);
  for (size_t i = 0; i + 1 < n; i++) {
    struct bpf_insn *in = &insns[i];
    if (in->code != (BPF_LD | BPF_IMM | BPF_DW)) continue;
    if ((in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_VALUE) && in->imm >= 3 && in->imm < 3 + nmaps) {
      in->imm = fds[in->imm - 3];
    }
    i++;
  }
  if (no_perfmon) drop_perfmon();
  char *log = malloc(LOG_SIZE);
  if (!log) return 1;
  int err;
  long fd = load(type, level, insns, n, log, &err);
  if (fd < 0 && err == ENOSPC && level > 0) {
    // The log overflowed (the kernel keeps its tail); the verdict comes from a load without one.
    int err2;
    long fd2 = load(type, 0, insns, n, log, &err2);
    fd = fd2;
    err = err2;
  }
  if (fd >= 0) {
    printf("accepted\n");
  } else {
    printf("rejected %d\n", err);
  }
  if (level > 0) fputs(log, stdout);
  return 0;
}
