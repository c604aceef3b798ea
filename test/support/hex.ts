// Hex text for bytes, in memory order: the form golden files and the kernel harness use
// ("0a00ff", lower case, no separators).

const DIGITS = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    s += DIGITS[b >> 4]! + DIGITS[b & 15]!;
  }
  return s;
}

/** Accepts upper or lower case and ignores whitespace, so dumps can be pasted as they are. */
export function fromHex(text: string): Uint8Array {
  const hex = text.replace(/\s+/g, '');
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error(`not a hex byte string: ${JSON.stringify(text.length > 40 ? text.slice(0, 40) + '...' : text)}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
