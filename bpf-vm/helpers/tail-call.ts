// bpf_tail_call(ctx, prog_array, index): jump into the program in slot `index`, never to return; an
// empty slot, an index past the end or a chain already MAX_TAIL_CALL_CNT deep makes the call fail
// and execution continue after it. The jump itself is the engines' (see prog/tail-call.ts).
import { BPF_MAP_TYPE } from '../maps/map.ts';
import { BPF_FUNC } from './ids.ts';
import { ARG, RET, type HelperProto } from './proto.ts';

/** MAX_TAIL_CALL_CNT: tail calls one chain may make (the 34th fails). */
export const MAX_TAIL_CALL_CNT = 33;

export const tailCall: HelperProto = {
  id: BPF_FUNC.tail_call,
  name: 'tail_call',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_CONST_MAP_PTR, ARG.ARG_ANYTHING],
  ret: RET.RET_VOID,
  // The target may move the packet (a tail call in a subprogram returns to its caller), as Linux 6.13+ assumes.
  changesPktData: true,
  impl(env) {
    const R = env.R;
    const map = env.resolveMap(R[4]!, R[5]!, 'bpf_tail_call');
    if (map.spec.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY) throw env.fault(`bpf_tail_call: map '${map.spec.name}' is not a PROG_ARRAY`);
    // The index is a u32 (the kernel compares its low 32 bits with max_entries).
    const index = R[6]! >>> 0;
    if (index >= map.spec.maxEntries || env.tailCallCount >= MAX_TAIL_CALL_CNT) return;
    if (env.tailCaller?.call(env, map, index)) env.tailCalled = true;
  },
};
