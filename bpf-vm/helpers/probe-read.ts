// bpf_probe_read_kernel (kernel/trace/bpf_trace.c): what libbpf's BPF_CORE_READ compiles to, the
// way CO-RE programs read through BTF pointers (struct tcp_sock's fields in a custom SYN cookie
// program). The kernel copies with copy_from_kernel_nofault and, where that faults, zeroes the
// destination and returns -EFAULT. In vxo "kernel memory" a program can name is a region: a BTF
// view (interp/btf-views.ts), a socket slot, a map value, the packet or the stack; anything else
// (NULL, a scalar, the context, bytes outside the region's bounds) is the fault case.
import { ERRNO } from '../errno.ts';
import type { ExecEnv } from '../interp/env.ts';
import { isRegionTag, REGION_ID } from '../interp/regions.ts';
import { BPF_FUNC } from './ids.ts';
import { ARG, RET, type HelperProto } from './proto.ts';


export const probeReadKernel: HelperProto = {
  id: BPF_FUNC.probe_read_kernel,
  name: 'probe_read_kernel',
  args: [ARG.ARG_PTR_TO_UNINIT_MEM, ARG.ARG_CONST_SIZE_OR_ZERO, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env: ExecEnv) {
    const R = env.R;
    const size = R[4]! >>> 0;
    if (size === 0) { env.setR0Int(0); return; }
    const dst = env.resolveMem(R[2]!, R[3]!, size, true, 'bpf_probe_read_kernel dst');
    const d = env.addr, du8 = dst.u8;
    const lo = R[6]!, hi = R[7]!;
    const src = isRegionTag(hi) && (hi & 0xffff) !== REGION_ID.CTX ? env.regions[hi & 0xffff] : undefined;
    const a = lo >>> 0;
    if (src === undefined || a < src.lo || a + size > src.hi) {
      du8.fill(0, d, d + size);
      env.setR0Int(-ERRNO.EFAULT);
      return;
    }
    // A BTF view holds the fields the program's loads read; these bytes may be others.
    if (src.kind === 'btf') env.socks.views.fillRange(hi, a, size, env.netHost);
    const su8 = src.u8;
    if (su8 === du8) du8.copyWithin(d, a, a + size);
    else for (let i = 0; i < size; i++) du8[d + i] = su8[a + i]!;
    env.setR0Int(0);
  },
};
