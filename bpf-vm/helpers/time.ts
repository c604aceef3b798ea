// bpf_ktime_get_boot_ns and bpf_jiffies64: the other clocks of bpf_base_func_proto.
//
// vxo's clock is bpf_ktime_get_ns's (misc.ts): monotonic nanoseconds from performance.now(). The
// emulated machine never suspends, so CLOCK_BOOTTIME (monotonic plus time suspended) reads the same
// as CLOCK_MONOTONIC, as on any host that has not slept. jiffies count the same clock in ticks of
// HZ = 1000, the HZ of the emulated kernel's timers (net/core/clock.ts: a jiffy is a millisecond),
// so jiffies64 == floor(ktime_get_ns / 1e6) at any instant. Unlike the kernel, jiffies do not start
// at INITIAL_JIFFIES (2^32 - 300 * HZ, which makes 32-bit jiffies wrap five minutes after boot).
import { fromNumber, OUT } from '../interp/int64.ts';
import { RET, type HelperProto } from './proto.ts';
import { ktimeGetNs } from './misc.ts';

/** enum bpf_func_id: FN(jiffies64, 118), FN(ktime_get_boot_ns, 125). */
export const BPF_FUNC_jiffies64 = 118;
export const BPF_FUNC_ktime_get_boot_ns = 125;

/** The emulated kernel's HZ (net/core/clock.ts). */
export const HZ = 1000;
const NSEC_PER_JIFFY = 1e9 / HZ;

export const ktimeGetBootNs: HelperProto = {
  id: BPF_FUNC_ktime_get_boot_ns,
  name: 'ktime_get_boot_ns',
  args: [],
  ret: RET.RET_INTEGER,
  impl: ktimeGetNs.impl,
};

export const jiffies64: HelperProto = {
  id: BPF_FUNC_jiffies64,
  name: 'jiffies64',
  args: [],
  ret: RET.RET_INTEGER,
  impl(env) {
    ktimeGetNs.impl(env);
    // r0 holds ktime in ns (below 2^53): back to a double, then to whole jiffies.
    const ns = (env.R[1]! >>> 0) * 2 ** 32 + (env.R[0]! >>> 0);
    fromNumber(Math.floor(ns / NSEC_PER_JIFFY));
    env.setR0(OUT[0]!, OUT[1]!);
  },
};
