// bpf-vm's public surface: everything eBPF, nothing about virtio.
export { BpfError, InvalidProgramError, ElfError, RuntimeFault, AsmError, type BpfErrorCode } from './errors.ts';
export { ERRNO, errnoName, type ErrnoName } from './errno.ts';
export * from './isa/opcodes.ts';
export { OPCODE_TABLE, fieldAllows, type OpcodeRule, type OpKind } from './isa/legality.ts';
export { type Insn, insn, decodeInsns, encodeInsns } from './isa/insn.ts';
export { assemble, toAsm, disassemble, disassembleInsn, type DisasmLine, type DisasmOptions } from './asm/index.ts';
export { parseElf, type CollectionSpec, type ProgramSpec, type MapReference, type FuncInfo } from './elf/index.ts';
export {
  BPF_MAP_TYPE, BPF_UPDATE, BPF_MAP_FLAG, type BpfMap, type MapSpec, type SharedMapState,
  createMap, openSharedMap, dumpMap, type MapEntry, jhash2,
} from './maps/index.ts';
export { mapTypeName, linuxMapTypeName } from './maps/names.ts';
export { RingBufMap, RingBufConsumer, drainRingBuf, BPF_RB, BPF_RB_QUERY, type RingBufSampleFn } from './maps/index.ts';
export { ProgArrayMap } from './maps/index.ts';
export { formatMapDump, walkMap } from './maps/dump.ts';
export { SockMap } from './maps/sockmap.ts';
export { SockHash } from './maps/sockhash.ts';
export { asSockMap, isSockMapType, type SockMapOps } from './maps/sock-map-ops.ts';
export { BPF_PROG_TYPE, type ProgType, progTypeFromSection, progTypeName } from './prog/types.ts';
export { FdTable } from './prog/fd-table.ts';
export type { Program } from './prog/program.ts';
export { Collection, loadCollection, loadObjectFile, type LoadOptions } from './prog/collection.ts';
export { validateProgram } from './prog/validate.ts';
export { prepareProgram, type PreparedProgram } from './prog/prepare.ts';
export { XDP_ACTION, xdpActionName, XdpBuff, XDP_PACKET_HEADROOM, type XdpAction } from './prog/xdp.ts';
export { XdpProgramRunner, type XdpRunnerOptions } from './prog/xdp-runner.ts';
export { bpfProgTestRun, type TestRunOptions, type TestRunResult } from './prog/test-run.ts';
export { SkbProgramRunner, type SkbRunnerOptions } from './prog/skb-runner.ts';
export { bpfProgTestRunSkb, type SkbTestRunOptions, type SkbTestRunResult } from './prog/test-run-skb.ts';
export { SkLookupProgramRunner, type SkLookupRunnerOptions } from './prog/sk-lookup-runner.ts';
export { bpfProgTestRunSkLookup, type SkLookupTestRunOptions, type SkLookupTestRunResult } from './prog/test-run-sk-lookup.ts';
export {
  BPF_SK_LOOKUP_KIND, type BpfNetHost, type BpfSkb, type BpfSkLookupKern, type BpfSockRef, type BpfLookupCaller, type BpfSkLookupKind,
} from './prog/sock-host.ts';
export { SK_BUFF, SK_BUFF_SIZE, BPF_SOCK, BPF_SOCK_SIZE, BPF_TCP_SOCK, BPF_TCP_SOCK_SIZE, BPF_SK_LOOKUP, BPF_SK_LOOKUP_SIZE } from './prog/bpf-sock.ts';
export { encodeXdpMd, decodeXdpMd, type XdpMd } from './prog/xdp-md.ts';
export { runPlain, CONFORMANCE_HELPERS, type PlainRunOptions } from './prog/plain-run.ts';
export { ENGINES, DEFAULT_ENGINE, createEngine, type Engine, type EngineName } from './engines.ts';
export { ExecEnv, type RedirectTarget, type TraceSink } from './interp/env.ts';
export { BPF_FUNC } from './helpers/ids.ts';
export { ARG, RET, type HelperProto, type ArgKind, type RetKind } from './helpers/proto.ts';
export { ALL_HELPERS, HELPERS_BY_ID, helpersFor, helperName } from './helpers/table.ts';
export { linuxHelperName } from './helpers/names.ts';
export { formatTracePipeLine, type TraceContext } from './helpers/trace-pipe.ts';
export { toHex, fromHex } from './hex.ts';
// vxo's kernel BTF (the structures a program may see, the kfunc prototypes), its dumps and CO-RE.
export { kernelBtf, dumpBtfC, dumpBtfRaw, bpf_core_calc_relo, coreRelosBySection, KERNEL_KFUNCS } from './btf/index.ts';
export {
  verifyProgram, VerifierError,
  type VerifyOptions, type VerifyResult, type VerifyStats, type VerifierLogLevel, type InsnFacts, type MemKind,
} from './verifier/index.ts';
