// Helper prototypes (the kernel's struct bpf_func_proto, re-expressed as data): the verifier reads
// the argument and return kinds; the engines call `impl`.
import type { ExecEnv } from '../interp/env.ts';

/** enum bpf_arg_type, the kinds vxo uses. */
export const ARG = {
  ARG_DONTCARE: 'dontcare',
  ARG_ANYTHING: 'anything',
  ARG_CONST_MAP_PTR: 'const_map_ptr',
  ARG_PTR_TO_MAP_KEY: 'ptr_to_map_key',
  ARG_PTR_TO_MAP_VALUE: 'ptr_to_map_value',
  /** Readable memory whose size is the next argument. */
  ARG_PTR_TO_MEM: 'ptr_to_mem',
  ARG_PTR_TO_MEM_OR_NULL: 'ptr_to_mem_or_null',
  /** Writable memory (need not be initialised) whose size is the next argument. */
  ARG_PTR_TO_UNINIT_MEM: 'ptr_to_uninit_mem',
  /** Writable memory of a fixed size (8 bytes for strtol's result). */
  ARG_PTR_TO_FIXED_SIZE_MEM: 'ptr_to_fixed_size_mem',
  ARG_CONST_SIZE: 'const_size',
  ARG_CONST_SIZE_OR_ZERO: 'const_size_or_zero',
  ARG_PTR_TO_CTX: 'ptr_to_ctx',
  /** A full socket (PTR_TO_SOCKET). */
  ARG_PTR_TO_SOCKET: 'ptr_to_socket',
  /** A full socket or NULL (bpf_sk_assign of SK_LOOKUP: NULL selects no socket). */
  ARG_PTR_TO_SOCKET_OR_NULL: 'ptr_to_socket_or_null',
  /** Any socket pointer: sock_common, sock, tcp_sock (bpf_sk_fullsock, bpf_tcp_sock). */
  ARG_PTR_TO_SOCK_COMMON: 'ptr_to_sock_common',
  /**
   * Any socket pointer, or a BTF-typed pointer to a struct that begins with sock_common (bpf_sk_release,
   * bpf_sk_assign at tc, the syncookie helpers, the bpf_skc_to_* casts).
   */
  ARG_PTR_TO_BTF_ID_SOCK_COMMON: 'ptr_to_btf_id_sock_common',
  /** A known constant size of memory the helper allocates (bpf_ringbuf_reserve's size). */
  ARG_CONST_ALLOC_SIZE_OR_ZERO: 'const_alloc_size_or_zero',
  /** A ringbuf record from bpf_ringbuf_reserve, released by the helper (submit, discard). */
  ARG_PTR_TO_RINGBUF_MEM: 'ptr_to_ringbuf_mem',
  /** A function's address (ld_imm64 BPF_PSEUDO_FUNC): the callback of bpf_loop and its kin. */
  ARG_PTR_TO_FUNC: 'ptr_to_func',
  /** A pointer into the stack, or NULL: a callback's context. */
  ARG_PTR_TO_STACK_OR_NULL: 'ptr_to_stack_or_null',
} as const;
export type ArgKind = (typeof ARG)[keyof typeof ARG];

/** enum bpf_return_type, the kinds vxo uses. */
export const RET = {
  RET_INTEGER: 'integer',
  RET_VOID: 'void',
  RET_PTR_TO_MAP_VALUE_OR_NULL: 'ptr_to_map_value_or_null',
  RET_PTR_TO_SOCKET_OR_NULL: 'ptr_to_socket_or_null',
  RET_PTR_TO_SOCK_COMMON_OR_NULL: 'ptr_to_sock_common_or_null',
  RET_PTR_TO_TCP_SOCK_OR_NULL: 'ptr_to_tcp_sock_or_null',
  /** A referenced ringbuf record of the constant size asked, or NULL (bpf_ringbuf_reserve). */
  RET_PTR_TO_RINGBUF_MEM_OR_NULL: 'ptr_to_ringbuf_mem_or_null',
  /** PTR_TO_BTF_ID_OR_NULL of the struct named by HelperProto.retBtfStruct (the bpf_skc_to_* casts). */
  RET_PTR_TO_BTF_ID_OR_NULL: 'ptr_to_btf_id_or_null',
} as const;
export type RetKind = (typeof RET)[keyof typeof RET];

export interface HelperProto {
  readonly id: number;
  /** The name without the bpf_ prefix, as in enum bpf_func_id (FN(map_lookup_elem)). */
  readonly name: string;
  readonly args: readonly ArgKind[];
  readonly ret: RetKind;
  /** Size of fixed-size memory arguments (ARG_PTR_TO_FIXED_SIZE_MEM). */
  readonly fixedSize?: number;
  /** A helper that returns a reference the program must release (socket lookups). */
  readonly acquires?: boolean;
  /** A helper that releases the reference passed in its first argument. */
  readonly releases?: boolean;
  /**
   * The kernel's is_ptr_cast_function (bpf_sk_fullsock, bpf_tcp_sock): the result is another view
   * of the argument's socket and carries the argument's reference (released through either).
   */
  readonly castsRef?: boolean;
  /** RET_PTR_TO_BTF_ID_OR_NULL: the struct's name in vxo's kernel BTF (kernelBtf().struct(name)). */
  readonly retBtfStruct?: string;
  /** Whether the helper may change packet data pointers (the verifier drops packet ranges). */
  readonly changesPktData?: boolean;
  /** Reads r1..r5 from env.R and writes r0 (env.R[0], env.R[1]). */
  readonly impl: (env: ExecEnv) => void;
}
