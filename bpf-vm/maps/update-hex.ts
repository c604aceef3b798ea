// A map entry written from user space as text, as `bpftool map update ... key hex .. value hex ..`
// takes it: the sizes are checked against the map's first, so a mistake reads as one, then the
// map's own errno (E2BIG for a full map, EINVAL for a bad index, ...) with its name.
import { BpfError } from '../errors.ts';
import { ERRNO, errnoName, type ErrnoName } from '../errno.ts';
import { fromHex } from '../hex.ts';
import type { BpfMap } from './map.ts';

export function mapUpdateHex(m: BpfMap, keyHex: string, valueHex: string, flags = 0): void {
  const name = m.spec.name;
  const key = fromHex(keyHex, `map ${name} key`);
  const value = fromHex(valueHex, `map ${name} value`);
  if (key.length !== m.spec.keySize) throw new BpfError('EINVAL', `map ${name}: the key is ${key.length} bytes, the map's key_size is ${m.spec.keySize}`);
  if (value.length !== m.spec.valueSize) throw new BpfError('EINVAL', `map ${name}: the value is ${value.length} bytes, the map's value_size is ${m.spec.valueSize}`);
  const err = m.update(key, value, flags);
  if (err === 0) return;
  const e = errnoName(-err);
  const code: ErrnoName = e in ERRNO ? (e as ErrnoName) : 'EINVAL';
  throw new BpfError(code, `map ${name} update: ${e}`);
}
