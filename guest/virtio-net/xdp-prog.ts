// A native XDP program from an object file, ready for virtnet_xdp_set: loaded (maps created),
// verified and prepared for one engine. Its maps are returned as shares so another thread (the
// scenario runner, a test) can read the counters the program keeps.
import { type EngineName, loadObjectFile, type SharedMapState, XdpProgramRunner } from '../../bpf-vm/index.ts';

export interface NativeXdpSpec {
  /** Path of the ELF object (e.g. scenarios/xdp/xdp1.o). */
  object: string;
  /** Program (function or section) name; the object's first program when omitted. */
  program?: string;
  engine?: EngineName;
}

export interface NativeXdp {
  runner: XdpProgramRunner;
  /** The object's maps by name, as shares another worker opens with openSharedMap. */
  maps: Record<string, SharedMapState>;
}

export function loadNativeXdp(spec: NativeXdpSpec): NativeXdp {
  const coll = loadObjectFile(spec.object);
  const runner = new XdpProgramRunner(coll.program(spec.program), { engine: spec.engine });
  const maps: Record<string, SharedMapState> = {};
  for (const [name, m] of coll.maps) maps[name] = m.share();
  return { runner, maps };
}
