// The tokens of packetdrill's script language, as its flex scanner (lexer.l) cuts them: the longest
// match wins, and between equal lengths the earlier kind (float, integer, hex, word). Newlines are
// whitespace; statements end where the grammar says. Keywords (ack, win, mss, ...) are words here;
// the parser compares their text.
import { ScriptError, type Loc } from './errors.ts';

export type TokenKind =
  | 'int' | 'float' | 'hex' | 'word' | 'string' | 'backquote' | 'code' | 'option'
  | 'ellipsis' | 'ipv4' | 'ipv6' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The source text (for a string or backquote: the text inside the quotes). */
  text: string;
  /** int/hex/float: the number. */
  value: number;
  /** option: `--name=value`'s value (undefined without `=`). */
  option_value?: string | undefined;
  loc: Loc;
  /** Offset of the token's first character in the source. */
  pos: number;
}

const IPV4 = /[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/y;
const IPV6 = /(?:[0-9a-fA-F]{0,4}:){2,7}(?:[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+|[0-9a-fA-F]{0,4})/y;
const FLOAT = /-?[0-9]*\.[0-9]+/y;
const INT = /-?[0-9]+/y;
const HEX = /0x[0-9a-fA-F]+/y;
const WORD = /[a-zA-Z0-9_]+/y;

function matchAt(re: RegExp, src: string, pos: number): string | undefined {
  re.lastIndex = pos;
  const m = re.exec(src);
  return m === null ? undefined : m[0];
}

/** An IPv6 literal as lexer.l accepts it: with "::" or all eight groups, so `1:1001` stays a sequence range. */
function ipv6At(src: string, pos: number): string | undefined {
  const m = matchAt(IPV6, src, pos);
  if (m === undefined) return undefined;
  const colons = m.split(':').length - 1;
  if (!m.includes('::') && !(colons === 7 && !m.endsWith(':'))) return undefined;
  return m;
}

export function tokenize(src: string, file: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  const loc = (p: number): Loc => ({ line, col: p - lineStart + 1 });
  const advance = (to: number): void => {
    for (let i = pos; i < to; i++) {
      if (src.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    pos = to;
  };
  const push = (kind: TokenKind, text: string, end: number, value = 0, option_value?: string): void => {
    out.push({ kind, text, value, option_value, loc: loc(pos), pos });
    advance(end);
  };
  while (pos < src.length) {
    const c = src[pos]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      advance(pos + 1);
      continue;
    }
    if (src.startsWith('//', pos)) {
      const nl = src.indexOf('\n', pos);
      advance(nl < 0 ? src.length : nl);
      continue;
    }
    if (src.startsWith('/*', pos)) {
      const end = src.indexOf('*/', pos + 2);
      if (end < 0) throw new ScriptError(file, loc(pos), 'unterminated /* comment');
      advance(end + 2);
      continue;
    }
    if (src.startsWith('%{', pos)) {
      const end = src.indexOf('}%', pos + 2);
      const text = src.slice(pos + 2, end < 0 ? src.length : end).trim();
      push('code', text, end < 0 ? src.length : end + 2);
      continue;
    }
    if (c === '"' || c === '`') {
      let i = pos + 1;
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
      if (i >= src.length) throw new ScriptError(file, loc(pos), `unterminated ${c === '"' ? 'string' : 'backquoted command'}`);
      push(c === '"' ? 'string' : 'backquote', src.slice(pos + 1, i), i + 1);
      continue;
    }
    if (src.startsWith('...', pos)) {
      push('ellipsis', '...', pos + 3);
      continue;
    }
    if (src.startsWith('--', pos) && /[a-zA-Z0-9_]/.test(src[pos + 2] ?? '')) {
      const name = matchAt(WORD, src, pos + 2)!;
      let end = pos + 2 + name.length;
      let value: string | undefined;
      if (src[end] === '=') {
        // The value runs to the next blank, so `--ip_version=ipv4-mapped-ipv6` is one option.
        let j = end + 1;
        while (j < src.length && !/\s/.test(src[j]!)) j++;
        value = src.slice(end + 1, j).replace(/^"(.*)"$/, '$1');
        end = j;
      }
      push('option', name, end, 0, value);
      continue;
    }
    // Longest match among the number, address and word forms; ties go to the earlier kind.
    const candidates: [TokenKind, string | undefined][] = [
      ['ipv4', matchAt(IPV4, src, pos)],
      ['ipv6', ipv6At(src, pos)],
      ['float', matchAt(FLOAT, src, pos)],
      ['int', matchAt(INT, src, pos)],
      ['hex', matchAt(HEX, src, pos)],
      ['word', matchAt(WORD, src, pos)],
    ];
    let best: [TokenKind, string] | undefined;
    for (const [k, m] of candidates) if (m !== undefined && (best === undefined || m.length > best[1].length)) best = [k, m];
    if (best !== undefined) {
      const [k, m] = best;
      const value = k === 'float' ? Number(m) : k === 'int' ? Number(m) : k === 'hex' ? parseInt(m.slice(2), 16) : 0;
      push(k, m, pos + m.length, value);
      continue;
    }
    push('punct', c, pos + 1);
  }
  out.push({ kind: 'eof', text: '', value: 0, loc: loc(pos), pos });
  return out;
}
