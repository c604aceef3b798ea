// Hex text for bytes, as bpftool and the conformance suite write them.
import { BpfError } from './errors.ts';

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i]!.toString(16).padStart(2, '0');
  return s;
}

/** Parses hex digits, ignoring white space and an optional 0x before each group. */
export function fromHex(text: string, what = 'hex'): Uint8Array {
  const clean = text.replace(/0x/gi, '').replace(/\s+/g, '');
  if (clean.length % 2 !== 0) throw new BpfError('EINVAL', `${what}: odd number of hex digits`);
  if (!/^[0-9a-fA-F]*$/.test(clean)) throw new BpfError('EINVAL', `${what}: not hex: ${JSON.stringify(text.slice(0, 40))}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
