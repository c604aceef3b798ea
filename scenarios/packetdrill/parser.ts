// packetdrill's grammar (parser.y) by recursive descent: options, then events of the form
// `time action`, where the action is a packet (`<` / `>`), a system call (`name(args) = result
// [ERRNO (note)]`), or a backquoted shell command. What vxo does not run (code snippets %{ }%,
// encapsulation prefixes, fuzzing blocks, TCP Fast Open options ...) is refused here with its
// line, column and name, so a script never half-runs.
import type {
  Action, EventTime, Expr, IcmpPacketSpec, IpInfo, PacketSpec, Script, ScriptEvent, ScriptOption, SyscallSpec,
  TcpOption, TcpPacketSpec, UdpPacketSpec,
} from './ast.ts';
import { ScriptError, type Loc } from './errors.ts';
import { tokenize, type Token } from './lexer.ts';

const TCP_FLAG_LETTERS = /^[.FSRPEWAU]*$/;
/** The TCP header has room for 40 bytes of options. */
const MAX_TCP_OPTION_BYTES = 40;

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Token[],
    private readonly file: string,
  ) {}

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  private err(loc: Loc, msg: string): never {
    throw new ScriptError(this.file, loc, msg);
  }
  private describe(t: Token): string {
    if (t.kind === 'eof') return 'end of script';
    if (t.kind === 'string') return `"${t.text}"`;
    if (t.kind === 'backquote') return `\`${t.text}\``;
    return `'${t.text}'`;
  }
  private isPunct(c: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'punct' && t.text === c;
  }
  private isWord(w: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'word' && t.text === w;
  }
  private expectPunct(c: string, what: string): Token {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== c) this.err(t.loc, `expected '${c}' ${what}, found ${this.describe(t)}`);
    return t;
  }
  private expectInt(what: string): Token {
    const t = this.next();
    if (t.kind !== 'int' && t.kind !== 'hex') this.err(t.loc, `expected an integer for ${what}, found ${this.describe(t)}`);
    return t;
  }
  private u32(t: Token, what: string): number {
    if (!(t.value >= 0 && t.value <= 0xffffffff)) this.err(t.loc, `${what} ${t.text} out of range (0 to 4294967295)`);
    return t.value;
  }
  private u16(t: Token, what: string): number {
    if (!(t.value >= 0 && t.value <= 0xffff)) this.err(t.loc, `${what} ${t.text} out of range (0 to 65535)`);
    return t.value;
  }
  private u8(t: Token, what: string): number {
    if (!(t.value >= 0 && t.value <= 0xff)) this.err(t.loc, `${what} ${t.text} out of range (0 to 255)`);
    return t.value;
  }

  parse(): Script {
    const options: ScriptOption[] = [];
    while (this.peek().kind === 'option') {
      const t = this.next();
      options.push({ name: t.text, value: t.option_value, loc: t.loc });
    }
    const events: ScriptEvent[] = [];
    while (this.peek().kind !== 'eof') events.push(this.event());
    // A command without a time is the init command (first) or the cleanup command (last).
    for (let k = 1; k < events.length - 1; k++) {
      if (events[k]!.time === undefined) this.err(events[k]!.loc, 'a command between events needs an event time (e.g. +0 `...`)');
    }
    return { file: this.file, options, events };
  }

  private event(): ScriptEvent {
    const t = this.peek();
    if (t.kind === 'backquote') {
      this.next();
      return { loc: t.loc, time: undefined, action: { kind: 'command', text: t.text } };
    }
    if (t.kind === 'code') this.err(t.loc, 'unsupported construct: %{ }% code snippets (vxo runs no Python)');
    if (t.kind === 'option') this.err(t.loc, `option --${t.text} must come before the first event`);
    const time = this.eventTime();
    const action = this.action(time);
    return { loc: t.loc, time, action };
  }

  private time(): number {
    const t = this.next();
    if (t.kind !== 'int' && t.kind !== 'float') this.err(t.loc, `expected an event time, found ${this.describe(t)}`);
    if (t.value < 0) this.err(t.loc, 'negative time');
    return Math.round(t.value * 1e6);
  }

  private eventTime(): EventTime {
    const t = this.peek();
    if (this.isPunct('*')) {
      this.next();
      return { kind: 'any' };
    }
    if (this.isPunct('+')) {
      this.next();
      const usecs = this.time();
      if (this.isPunct('~')) {
        this.next();
        if (!this.isPunct('+')) this.err(this.peek().loc, "a relative time range is written +start~+end");
        this.next();
        return { kind: 'relative_range', usecs, end: this.time() };
      }
      return { kind: 'relative', usecs };
    }
    if (t.kind === 'int' || t.kind === 'float') {
      const usecs = this.time();
      if (this.isPunct('~')) {
        this.next();
        return { kind: 'absolute_range', usecs, end: this.time() };
      }
      return { kind: 'absolute', usecs };
    }
    return this.err(t.loc, `expected an event time (0, +0.1, *, 0.1~0.2) at the start of an event, found ${this.describe(t)}`);
  }

  private action(time: EventTime): Action {
    const t = this.peek();
    let action: Action;
    if (this.isPunct('<') || this.isPunct('>')) action = { kind: 'packet', packet: this.packet() };
    else if (t.kind === 'ellipsis' || (t.kind === 'word' && this.isPunct('(', 1))) action = { kind: 'syscall', syscall: this.syscall() };
    else if (t.kind === 'backquote') {
      this.next();
      action = { kind: 'command', text: t.text };
    } else if (t.kind === 'code') this.err(t.loc, 'unsupported construct: %{ }% code snippets (vxo runs no Python)');
    else this.err(t.loc, `expected a packet (< or >), a system call or a \`command\` after the event time, found ${this.describe(t)}`);
    const outbound = action.kind === 'packet' && action.packet.direction === '>';
    if (time.kind === 'any' && !outbound) this.err(t.loc, 'event time * can only be used with outbound packets');
    if ((time.kind === 'absolute_range' || time.kind === 'relative_range') && !outbound) {
      this.err(t.loc, 'event time range can only be used with outbound packets');
    }
    if ((time.kind === 'absolute_range' || time.kind === 'relative_range') && time.end < time.usecs) this.err(t.loc, 'time range is backwards');
    return action;
  }

  // ---- packets ----

  private ipInfo(): IpInfo {
    const info: IpInfo = { tos_check: 'none', tos: 0, ttl: 0, flowlabel: 0 };
    if (!(this.isPunct('(') || this.isPunct('['))) return info;
    // `[` / `(` here opens IP info only when a known IP-info word follows (`(ect0)`, `[tos 0x2]`).
    const w = this.peek(1);
    if (w.kind !== 'word' || !['noecn', 'ect0', 'ect1', 'ce', 'ect01', 'tos', 'ttl', 'flowlabel'].includes(w.text)) return info;
    const close = this.next().text === '(' ? ')' : ']';
    for (;;) {
      const k = this.next();
      switch (k.text) {
        case 'noecn': info.tos_check = 'ecn'; info.tos = 0; break;
        case 'ect1': info.tos_check = 'ecn'; info.tos = 1; break;
        case 'ect0': info.tos_check = 'ecn'; info.tos = 2; break;
        case 'ce': info.tos_check = 'ecn'; info.tos = 3; break;
        case 'ect01': info.tos_check = 'ect01'; break;
        case 'tos': info.tos_check = 'tos'; info.tos = this.u8(this.expectInt('tos'), 'tos'); break;
        case 'ttl': info.ttl = this.u8(this.expectInt('ttl'), 'ttl'); break;
        case 'flowlabel': info.flowlabel = this.expectInt('flowlabel').value; break;
        default: this.err(k.loc, `unknown IP field ${this.describe(k)} (noecn, ect0, ect1, ce, ect01, tos, ttl, flowlabel)`);
      }
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      this.expectPunct(close, 'to close the IP fields');
      return info;
    }
  }

  private ports(): [number, number] {
    if ((this.peek().kind === 'int') && this.isPunct('>', 1) && this.peek(2).kind === 'int') {
      const s = this.u16(this.next(), 'source port');
      this.next();
      const d = this.u16(this.next(), 'destination port');
      return [s, d];
    }
    return [0, 0];
  }

  private packet(): PacketSpec {
    const dirTok = this.next();
    const direction = dirTok.text as '<' | '>';
    const t = this.peek();
    if (t.kind === 'word' && ['ipv4', 'ipv6', 'gre', 'GREv0', 'mpls'].includes(t.text)) {
      this.err(t.loc, `unsupported construct: ${t.text} encapsulation prefix`);
    }
    const ip = this.ipInfo();
    if (direction === '<' && ip.tos_check === 'ect01') this.err(t.loc, '[ect01] can only be used with outbound packets');
    if (this.isWord('udp')) return this.udp(direction, ip);
    if (this.isWord('icmp')) return this.icmp(direction, ip);
    return this.tcp(direction, ip, dirTok.loc);
  }

  private udp(direction: '<' | '>', ip: IpInfo): UdpPacketSpec {
    this.next();
    const [src_port, dst_port] = this.ports();
    this.expectPunct('(', 'before the UDP payload length');
    const len = this.u16(this.expectInt('the UDP payload length'), 'UDP payload size');
    this.expectPunct(')', 'after the UDP payload length');
    return { proto: 'udp', direction, ip, src_port, dst_port, len };
  }

  private icmp(direction: '<' | '>', ip: IpInfo): IcmpPacketSpec {
    this.next();
    const type = this.next();
    if (type.kind !== 'word') this.err(type.loc, `expected an ICMP type (unreachable, echo_request, ...), found ${this.describe(type)}`);
    let code: string | undefined;
    if (this.peek().kind === 'word' && this.peek().text !== 'mtu' && this.peek().text !== 'id') code = this.next().text;
    let mtu: number | undefined;
    if (this.isWord('mtu')) {
      this.next();
      mtu = this.expectInt('mtu').value;
    }
    if (this.isWord('id')) this.err(this.peek().loc, 'unsupported construct: ICMP echo id');
    let echoed: IcmpPacketSpec['echoed'];
    if (this.isPunct('[')) {
      this.next();
      if (this.isWord('udp')) {
        this.next();
        this.expectPunct('(', 'before the quoted UDP payload length');
        echoed = { proto: 'udp', len: this.u16(this.expectInt('the quoted UDP payload length'), 'UDP payload size') };
        this.expectPunct(')', 'after the quoted UDP payload length');
      } else {
        const start = this.u32(this.expectInt('the quoted segment (start:end(len))'), 'TCP start sequence number');
        this.expectPunct(':', 'in start:end(len)');
        this.expectInt('the end sequence number');
        this.expectPunct('(', 'in start:end(len)');
        const len = this.u16(this.expectInt('the payload length'), 'TCP payload size');
        this.expectPunct(')', 'in start:end(len)');
        echoed = { proto: 'tcp', seq: start, len };
      }
      this.expectPunct(']', 'to close the quoted packet');
    }
    return { proto: 'icmp', direction, ip, type: type.text, code, mtu, echoed };
  }

  private tcpFlags(): string {
    const t = this.next();
    if (t.kind === 'punct' && t.text === '.') return '.';
    if (t.kind === 'punct' && t.text === '-') return '';
    if (t.kind === 'word') {
      let flags = t.text;
      if (this.isPunct('.') && this.peek().pos === t.pos + t.text.length) {
        this.next();
        flags += '.';
      }
      if (!TCP_FLAG_LETTERS.test(flags)) {
        if (/[0-7]/.test(flags)) this.err(t.loc, `unsupported construct: AccECN ACE flags in ${this.describe(t)}`);
        this.err(t.loc, `invalid TCP flags ${this.describe(t)} (letters F S R P E W A U and '.' for ACK)`);
      }
      return flags;
    }
    return this.err(t.loc, `expected TCP flags (S, S., ., P., F., R, R., -) or udp/icmp, found ${this.describe(t)}`);
  }

  private tcp(direction: '<' | '>', ip: IpInfo, dirLoc: Loc): TcpPacketSpec {
    const [src_port, dst_port] = this.ports();
    const flags = this.tcpFlags();
    const start = this.u32(this.expectInt('the start sequence number (start:end(len))'), 'TCP start sequence number');
    this.expectPunct(':', 'in start:end(len)');
    const endTok = this.expectInt('the end sequence number (start:end(len))');
    const end = this.u32(endTok, 'TCP end sequence number');
    this.expectPunct('(', 'in start:end(len)');
    const len = this.u16(this.expectInt('the payload length (start:end(len))'), 'TCP payload size');
    this.expectPunct(')', 'in start:end(len)');
    if (end !== ((start + len) >>> 0)) this.err(endTok.loc, `inconsistent TCP sequence numbers and payload size: ${start}:${end}(${len})`);
    let ack: number | undefined;
    let win: number | undefined;
    let urg = 0;
    if (this.isWord('ack')) {
      this.next();
      ack = this.u32(this.expectInt('ack'), 'TCP ack sequence number');
    }
    if (this.isWord('win')) {
      this.next();
      win = this.u16(this.expectInt('win'), 'TCP window value');
    }
    if (this.isWord('urg')) {
      this.next();
      urg = this.u16(this.expectInt('urg'), 'urg_ptr value');
    }
    let options: TcpOption[] | null = [];
    if (this.isPunct('<')) options = this.tcpOptions(direction);
    if (this.isPunct('{')) this.err(this.peek().loc, 'unsupported construct: packet fuzzing block { ... }');
    if (direction === '<' && win === undefined) this.err(dirLoc, 'window must be specified for inbound packets (win N)');
    if (flags.includes('.') && ack === undefined && direction === '<') ack = 0;
    return { proto: 'tcp', direction, ip, src_port, dst_port, flags, seq: start, len, ack, win, urg, options };
  }

  private tcpOptions(direction: '<' | '>'): TcpOption[] | null {
    const open = this.next();
    if (this.peek().kind === 'ellipsis') {
      this.next();
      this.expectPunct('>', "to close '<...>'");
      if (direction === '<') this.err(open.loc, '<...> for TCP options can only be used with outbound packets');
      return null;
    }
    const opts: TcpOption[] = [];
    let bytes = 0;
    for (;;) {
      const o = this.tcpOption();
      opts.push(o);
      bytes += tcpOptionLength(o);
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      this.expectPunct('>', 'to close the TCP options (or , between options)');
      break;
    }
    if (bytes > MAX_TCP_OPTION_BYTES) this.err(open.loc, `TCP option list too long (${bytes} bytes, at most 40)`);
    if (bytes % 4 !== 0) {
      this.err(open.loc, `TCP options are not padded correctly to ensure TCP header is a multiple of 4 bytes: ${bytes % 4} excess bytes`);
    }
    return opts;
  }

  private tcpOption(): TcpOption {
    const t = this.next();
    if (t.kind !== 'word') return this.err(t.loc, `expected a TCP option (nop, eol, mss, wscale, sackOK, sack, TS), found ${this.describe(t)}`);
    switch (t.text) {
      case 'nop': return { kind: 'nop' };
      case 'eol': return { kind: 'eol' };
      case 'mss': return { kind: 'mss', mss: this.u16(this.expectInt('mss'), 'mss value') };
      case 'wscale': return { kind: 'wscale', shift: this.u8(this.expectInt('wscale'), 'window scale shift count') };
      case 'sackOK': return { kind: 'sackOK' };
      case 'sack': {
        const blocks: [number, number][] = [];
        while (this.peek().kind === 'int' && this.isPunct(':', 1)) {
          const l = this.u32(this.next(), 'TCP SACK left sequence number');
          this.next();
          const r = this.u32(this.expectInt('the SACK block end'), 'TCP SACK right sequence number');
          blocks.push([l, r]);
        }
        if (blocks.length === 0) this.err(this.peek().loc, 'expected SACK blocks (sack 1:1001 2001:3001)');
        if (blocks.length > 4) this.err(t.loc, 'at most 4 SACK blocks fit in the TCP options');
        return { kind: 'sack', blocks };
      }
      case 'TS': {
        if (!this.isWord('val')) this.err(this.peek().loc, "expected 'val' in TS val N ecr N");
        this.next();
        const val = this.u32(this.expectInt('TS val'), 'ts val');
        if (!this.isWord('ecr')) this.err(this.peek().loc, "expected 'ecr' in TS val N ecr N");
        this.next();
        const ecr = this.u32(this.expectInt('TS ecr'), 'ecr val');
        return { kind: 'ts', val, ecr };
      }
      case 'FO':
      case 'FOEXP':
        return this.err(t.loc, `unsupported construct: TCP Fast Open option ${t.text} (vxo's TCP has no Fast Open)`);
      case 'md5':
        return this.err(t.loc, 'unsupported construct: TCP MD5 signature option');
      default:
        return this.err(t.loc, `unknown TCP option ${this.describe(t)} (nop, eol, mss, wscale, sackOK, sack, TS)`);
    }
  }

  // ---- system calls ----

  private syscall(): SyscallSpec {
    let end_usecs: number | undefined;
    if (this.peek().kind === 'ellipsis') {
      this.next();
      end_usecs = this.time();
    }
    const name = this.next();
    if (name.kind !== 'word') this.err(name.loc, `expected a system call name, found ${this.describe(name)}`);
    this.expectPunct('(', `after ${name.text}`);
    const args: Expr[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        args.push(this.expr());
        if (this.isPunct(',')) {
          this.next();
          continue;
        }
        break;
      }
    }
    this.expectPunct(')', `to close the arguments of ${name.text}()`);
    this.expectPunct('=', `and the expected result after ${name.text}(...)`);
    const result = this.expr();
    let errno: SyscallSpec['errno'];
    if (this.peek().kind === 'word' && /^E[A-Z0-9]+$/.test(this.peek().text)) {
      const e = this.next();
      errno = { name: e.text, loc: e.loc };
    }
    // The note `(Operation now in progress)` is for the reader; its words are not checked.
    if (this.isPunct('(') && this.peek().loc.line === this.toks[this.i - 1]!.loc.line) {
      const open = this.next();
      while (!this.isPunct(')')) {
        if (this.peek().kind === 'eof') this.err(open.loc, 'unterminated note ( ... )');
        this.next();
      }
      this.next();
    }
    return { name: name.text, name_loc: name.loc, args, result, errno, end_usecs };
  }

  private expr(): Expr {
    let e = this.primary();
    while (this.isPunct('|')) {
      const op = this.next();
      e = { kind: 'or', lhs: e, rhs: this.primary(), loc: op.loc };
    }
    return e;
  }

  private exprList(close: string): Expr[] {
    const items: Expr[] = [];
    if (this.isPunct(close)) {
      this.next();
      return items;
    }
    for (;;) {
      items.push(this.expr());
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      this.expectPunct(close, `to close the ${close === ']' ? 'array' : 'structure'} (or , between elements)`);
      return items;
    }
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.kind) {
      case 'ellipsis':
        return { kind: 'ellipsis', loc: t.loc };
      case 'int':
      case 'hex':
        return { kind: 'int', value: t.value, loc: t.loc };
      case 'string': {
        let value = t.text.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
        while (this.peek().kind === 'string') value += this.next().text;
        let trailing_ellipsis = false;
        if (this.peek().kind === 'ellipsis') {
          this.next();
          trailing_ellipsis = true;
        }
        return { kind: 'string', value, trailing_ellipsis, loc: t.loc };
      }
      case 'word':
        if (this.isPunct('=')) {
          this.next();
          return { kind: 'assign', name: t.text, value: this.expr(), loc: t.loc };
        }
        if (this.isPunct('(')) {
          this.next();
          const call: Expr = { kind: 'call', name: t.text, args: this.exprList(')'), loc: t.loc };
          // msghdr fields are written msg_name(...)=... and msg_iov(1)=[...].
          if (this.isPunct('=')) {
            this.next();
            return { kind: 'assign', name: t.text, value: this.expr(), loc: t.loc };
          }
          return call;
        }
        return { kind: 'word', name: t.text, loc: t.loc };
      case 'punct':
        if (t.text === '[') return { kind: 'list', items: this.exprList(']'), loc: t.loc };
        if (t.text === '{') return { kind: 'struct', items: this.exprList('}'), loc: t.loc };
        break;
      case 'float':
        return this.err(t.loc, `unsupported construct: a fractional number ${t.text} as a system call argument`);
      default:
        break;
    }
    return this.err(t.loc, `expected an expression (number, SYMBOL, "string", [list], {struct} or ...), found ${this.describe(t)}`);
  }
}

/** The bytes an option takes in the header. */
export function tcpOptionLength(o: TcpOption): number {
  switch (o.kind) {
    case 'nop': case 'eol': return 1;
    case 'mss': return 4;
    case 'wscale': return 3;
    case 'sackOK': return 2;
    case 'sack': return 2 + 8 * o.blocks.length;
    case 'ts': return 10;
    case 'fo': return 2 + o.cookie.length;
    case 'md5': return 2 + o.digest.length;
  }
}

export function parseScript(src: string, file = '<script>'): Script {
  return new Parser(tokenize(src, file), file).parse();
}
