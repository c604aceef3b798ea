import type { MapSpec } from './map.ts';

/** A map as it crosses a worker boundary: its spec and the shared buffers that hold its state. */
export interface SharedMapState {
  spec: MapSpec;
  nrCpus: number;
  buffers: SharedArrayBuffer[];
}
