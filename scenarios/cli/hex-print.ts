// bpftool's hex_print (tools/bpf/bpftool/prog.c), which `bpftool prog run ... data_out -` uses:
// a 7-digit hex offset and a tab, 16 bytes as 8 groups of two, then " | " and the printable
// characters, 8 and 8. Kept byte for byte so that scripts reading bpftool's dumps read vxo's.
export function hexPrint(data: Uint8Array): string {
  let out = '';
  for (let i = 0; i < data.length; i += 16) {
    out += `${i.toString(16).padStart(7, '0')}\t`;
    let j = i;
    for (; j < i + 16 && j < data.length; j++) out += data[j]!.toString(16).padStart(2, '0') + (j % 2 ? ' ' : '');
    for (; j < i + 16; j++) out += `  ${j % 2 ? ' ' : ''}`;
    out += '| ';
    for (j = i; j < i + 16 && j < data.length; j++) {
      const c = data[j]!;
      out += (c < 0x20 || c > 0x7e ? '.' : String.fromCharCode(c)) + (j === i + 7 ? ' ' : '');
    }
    out += '\n';
  }
  return out;
}
