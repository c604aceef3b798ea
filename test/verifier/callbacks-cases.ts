// The callback fixtures (test/fixtures/callbacks, callbacks-refused) with what the kernel (6.18) said of them.

/** Object, program, kernel's processed count (undefined: vxo walks more), retval for 60- and 20-byte frames. */
export const CALLBACK_PROGRAMS: readonly { obj: string; prog: string; processed: number; vxoProcessed?: number; ret60: number; ret20: number }[] = [
  { obj: 'loop_sum', prog: 'loop_sum', processed: 69, ret60: 538968592, ret20: 353632466 },
  { obj: 'loop_sum', prog: 'loop_stop', processed: 48, ret60: 6006, ret20: 6006 },
  { obj: 'loop_sum', prog: 'loop_nested', processed: 81, ret60: 10318, ret20: 10318 },
  { obj: 'loop_sum', prog: 'loop_errors', processed: 45, ret60: 67350, ret20: 67350 },
  { obj: 'loop_sum', prog: 'loop_in_loop', processed: 43, ret60: 412, ret20: 412 },
  { obj: 'for_each', prog: 'each_array', processed: 125, vxoProcessed: 191, ret60: 33308288, ret20: 33308288 },
  { obj: 'for_each', prog: 'each_hash', processed: 160, vxoProcessed: 220, ret60: 205155, ret20: 205155 },
  { obj: 'for_each', prog: 'each_lru', processed: 69, ret60: 2122, ret20: 2122 },
  { obj: 'for_each_percpu', prog: 'each_percpu', processed: 49, ret60: 4064, ret20: 4064 },
  { obj: '../callbacks-refused/cb_flags_ok', prog: 'cb_flags_ok', processed: 10, ret60: 22, ret20: 22 },
];

export const CALLBACK_REFUSED: readonly { obj: string; message: string; processed: number }[] = [
  { obj: 'cb_ret2', message: 'At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]', processed: 9 },
  { obj: 'cb_not_func', message: 'R2 type=scalar expected=func', processed: 5 },
  { obj: 'cb_past_ctx', message: 'invalid write to stack R2 off=0 size=8', processed: 13 },
  { obj: 'cb_ctx_not_stack', message: 'R3 type=ctx expected=fp', processed: 5 },
  { obj: 'cb_key_write', message: 'write to change key R2 not allowed', processed: 9 },
  { obj: 'cb_ret_range', message: 'At callback return the register R0 has smin=0 smax=3 should have been in [0, 1]', processed: 10 },
  { obj: 'cb_ret_ptr', message: 'cannot return stack pointer to the caller', processed: 12 },
  { obj: 'cb_lpm', message: 'callback function not allowed for map', processed: 5 },
  { obj: 'cb_global', message: 'callback function not static', processed: 2 },
];

/** bpf_loop with a function address in raw instructions (no BTF): the callback at insn 8. */
export const RAW_CALLBACK_PROGRAM = 'mov %r1, 2\nlddw %r2, code_addr(cb)\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb:\nmov %r0, 0\nexit';

/** Lines of loop_sum's level-2 log that vxo prints as the kernel does (the callback's frame, the return to the call). */
export const LOOP_SUM_LOG_LINES: readonly string[] = [
  '10: (18) r2 = 0xb                     ; R2=func()',
  '13: (85) call bpf_loop#181',
  'from 13 to 22: frame1: R1=scalar() R2=fp[0]-32 R10=fp0 cb',
  '22: frame1: R1=scalar() R2=fp[0]-32 R10=fp0 cb',
  '23: (79) r3 = *(u64 *)(r2 +0)         ; frame1: R2=fp[0]-32 R3=pkt(r=0) cb',
  '29: (2d) if r1 > r4 goto pc+8         ; frame1: R1=pkt(id=1,off=1,r=1,smin=smin32=0,smax=umax=smax32=umax32=63,var_off=(0x0; 0x3f)) R4=pkt_end() cb',
  'returning from callee:',
  'to caller at 13:',
  'from 38 to 13: safe',
];
