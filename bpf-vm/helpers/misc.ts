// Helpers that read the machine: time, randomness, CPU and NUMA ids.
import { fromNumber, OUT } from '../interp/int64.ts';
import { RET, type HelperProto } from './proto.ts';
import { BPF_FUNC } from './ids.ts';

// performance.now() is monotonic with sub-microsecond resolution in Node; ns since the time origin.
const ORIGIN_NS = Math.round(performance.timeOrigin * 1e6) % 2 ** 52;

export const ktimeGetNs: HelperProto = {
  id: BPF_FUNC.ktime_get_ns,
  name: 'ktime_get_ns',
  args: [],
  ret: RET.RET_INTEGER,
  impl(env) {
    fromNumber(Math.round(performance.now() * 1e6) + ORIGIN_NS);
    env.setR0(OUT[0]!, OUT[1]!);
  },
};

export const getPrandomU32: HelperProto = {
  id: BPF_FUNC.get_prandom_u32,
  name: 'get_prandom_u32',
  args: [],
  ret: RET.RET_INTEGER,
  impl(env) {
    env.setR0(env.prandom() | 0, 0);
  },
};

export const getSmpProcessorId: HelperProto = {
  id: BPF_FUNC.get_smp_processor_id,
  name: 'get_smp_processor_id',
  args: [],
  ret: RET.RET_INTEGER,
  impl(env) {
    env.setR0(env.cpu, 0);
  },
};

export const getNumaNodeId: HelperProto = {
  id: BPF_FUNC.get_numa_node_id,
  name: 'get_numa_node_id',
  args: [],
  ret: RET.RET_INTEGER,
  impl(env) {
    env.setR0(0, 0);
  },
};

