// The system calls a script makes, on net/socket.ts's Socket: their arguments read as packetdrill
// reads them (`...` for the address the run's configuration supplies, `[1]` for an int option,
// zero-filled buffers of the given length), and each call turned into an attempt the runner can
// repeat: the socket layer never blocks, so a call on a blocking socket that would block is
// retried whenever the socket may have become ready (and at each timer tick), which is what the
// kernel's sleeping caller does.
import type { Expr, SyscallSpec } from './ast.ts';
import { ScriptError } from './errors.ts';
import { SYMBOLS, ERRNOS } from './symbols.ts';
import { Socket } from '../../net/socket.ts';
import type { Net } from '../../net/core/net-namespace.ts';
import type { Sockaddr } from '../../net/core/msghdr.ts';
import type { SockoptValue } from '../../net/core/proto.ts';
import { inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import { FCNTL, MSG } from '../../net/core/socket-options.ts';

const EAGAIN = ERRNOS.EAGAIN![0];
const EINPROGRESS = ERRNOS.EINPROGRESS![0];
const EALREADY = ERRNOS.EALREADY![0];
const EISCONN = ERRNOS.EISCONN![0];
const EBADF = ERRNOS.EBADF![0];

/** What the runner lends the calls: the netns, the fd table and the socket-under-test hooks. */
export interface SyscallEnv {
  net: Net;
  file: string;
  /** AF_INET, or AF_INET6 for ipv6 and ipv4-mapped-ipv6 runs. */
  socket_domain: number;
  /** The address `bind(fd, ..., ...)` binds and `connect(fd, ..., ...)` connects to. */
  bind_addr: Sockaddr;
  connect_addr: Sockaddr;
  fds: Map<number, Socket>;
  /** --define symbols (NAME -> a number or another symbol). */
  defines: ReadonlyMap<string, string>;
  /** The virtual clock, microseconds (poll's timeout). */
  nowUs(): number;
  onSocket(fd: number, sock: Socket, type: number, protocol: number): void;
  onBind(fd: number, addr: Sockaddr): void;
  onListen(fd: number): void;
  onConnect(fd: number, addr: Sockaddr | undefined): void;
  /** Returns an error text when no passive connection matches the accept. */
  onAccept(listenFd: number, fd: number, sock: Socket): string | undefined;
  onClose(fd: number): void;
}

/** One system call, ready to be attempted. */
export interface Call {
  /** A result (>= 0, or -errno) or 'again' when a blocking socket would have to wait. */
  attempt(): number | 'again';
  /** The result packetdrill compares as an fd (socket, accept): any non-negative value matches a non-negative script value. */
  check_fd: boolean;
  /** After the result matched: extra checks (getsockopt's value) and bookkeeping (accept's new fd). Returns an error text. */
  finish(ret: number): string | undefined;
  /** A call that gives up by itself (poll's timeout): when, in microseconds, so the clock stops there. */
  wake_us?: () => number | undefined;
}

function err(env: SyscallEnv, e: { loc: { line: number; col: number } }, msg: string): never {
  throw new ScriptError(env.file, e.loc, msg);
}

/** An integer argument: a number, a SYMBOL, or SYMBOL|SYMBOL. */
export function intValue(env: SyscallEnv, e: Expr): number {
  switch (e.kind) {
    case 'int': return e.value;
    case 'word': {
      const d = env.defines.get(e.name);
      if (d !== undefined) {
        if (/^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(d)) return Number(d);
        const v = SYMBOLS[d] ?? ERRNOS[d]?.[0];
        if (v === undefined) err(env, e, `${e.name} is defined as ${d}, which is not a number or a known symbol`);
        return v;
      }
      const v = SYMBOLS[e.name] ?? ERRNOS[e.name]?.[0];
      if (v === undefined) err(env, e, `unknown symbol ${e.name}`);
      return v;
    }
    case 'or': return intValue(env, e.lhs) | intValue(env, e.rhs);
    case 'call':
      if (e.name === 'htons' && e.args.length === 1) return intValue(env, e.args[0]!);
      if (e.name === 'inet_addr' && e.args.length === 1 && e.args[0]!.kind === 'string') return inet_pton4(e.args[0]!.value);
      return err(env, e, `unsupported expression ${e.name}(...)`);
    default:
      return err(env, e, `expected an integer, found ${describe(e)}`);
  }
}

function describe(e: Expr): string {
  switch (e.kind) {
    case 'ellipsis': return '...';
    case 'int': return `${e.value}`;
    case 'word': return e.name;
    case 'string': return `"${e.value}"`;
    case 'list': return '[...]';
    case 'struct': return '{...}';
    case 'assign': return `${e.name}=...`;
    case 'or': return 'a|b';
    case 'call': return `${e.name}(...)`;
  }
}

function arg(env: SyscallEnv, s: SyscallSpec, i: number): Expr {
  const a = s.args[i];
  if (a === undefined) err(env, { loc: s.name_loc }, `${s.name}() needs at least ${i + 1} arguments, got ${s.args.length}`);
  return a;
}

function argCount(env: SyscallEnv, s: SyscallSpec, n: number): void {
  if (s.args.length !== n) err(env, { loc: s.name_loc }, `Expected ${n} args but got ${s.args.length} for ${s.name}()`);
}

function fdArg(env: SyscallEnv, s: SyscallSpec, i: number): { fd: number; sock: Socket | undefined } {
  const fd = intValue(env, arg(env, s, i));
  return { fd, sock: env.fds.get(fd) };
}

/** `[N]`: a one-element list's integer. */
function bracketed(env: SyscallEnv, e: Expr): number {
  if (e.kind === 'list' && e.items.length === 1) return intValue(env, e.items[0]!);
  if (e.kind === 'int' || e.kind === 'word') return intValue(env, e);
  return err(env, e, `expected [<integer>], found ${describe(e)}`);
}

/** A sockaddr argument: `...` (the configured address) or `{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("...")}`. */
function sockaddrArg(env: SyscallEnv, e: Expr, dflt: Sockaddr): Sockaddr {
  if (e.kind === 'ellipsis') return dflt;
  if (e.kind !== 'struct') return err(env, e, `expected ... or a {sa_family=..., sin_port=htons(N), sin_addr=inet_addr("...")} sockaddr, found ${describe(e)}`);
  let family = env.socket_domain;
  let port = 0;
  let addrText: string | undefined;
  for (const f of e.items) {
    if (f.kind !== 'assign') err(env, f, `expected field=value in a sockaddr, found ${describe(f)}`);
    if (f.name === 'sa_family' || f.name === 'sin_family' || f.name === 'sin6_family') family = intValue(env, f.value);
    else if (f.name === 'sin_port' || f.name === 'sin6_port') port = intValue(env, f.value);
    else if (f.name === 'sin_addr' || f.name === 'sin6_addr') {
      const v = f.value;
      if (v.kind === 'call' && (v.name === 'inet_addr' || v.name === 'inet6_addr') && v.args[0]?.kind === 'string') addrText = v.args[0].value;
      else err(env, v, 'expected inet_addr("a.b.c.d") or inet6_addr("...")');
    } else err(env, f, `unknown sockaddr field ${f.name}`);
  }
  if (family === 10) return { family: 10, addr: addrText === undefined ? inet_pton6('::') : inet_pton6(addrText), port };
  if (family === 2) return { family: 2, addr: addrText === undefined ? 0 : inet_pton4(addrText), port };
  return err(env, e, `unsupported sa_family ${family}`);
}

function sockoptValue(env: SyscallEnv, e: Expr): SockoptValue {
  if (e.kind === 'list' && e.items.length === 1) return intValue(env, e.items[0]!);
  if (e.kind === 'string') return e.value;
  if (e.kind === 'struct') {
    // struct linger { int l_onoff; int l_linger; }, little-endian as on x86-64.
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    for (const f of e.items) {
      if (f.kind !== 'assign') err(env, f, 'expected field=value');
      if (f.name === 'onoff') dv.setInt32(0, intValue(env, f.value), true);
      else if (f.name === 'linger') dv.setInt32(4, intValue(env, f.value), true);
      else err(env, f, `unsupported option structure field ${f.name} (onoff, linger)`);
    }
    return b;
  }
  if (e.kind === 'int' || e.kind === 'word' || e.kind === 'or') return intValue(env, e);
  return err(env, e, `unsupported option value ${describe(e)}`);
}

function isBlocking(sock: Socket, flags: number): boolean {
  return (sock.file_flags & FCNTL.O_NONBLOCK) === 0 && (flags & MSG.MSG_DONTWAIT) === 0;
}

const done = (n: number): Call => ({ attempt: () => n, check_fd: false, finish: () => undefined });
const badFd = (): Call => done(-EBADF);

/** Builds the call for a script line; throws ScriptError for what cannot be run as written. */
export function prepareCall(env: SyscallEnv, s: SyscallSpec): Call {
  switch (s.name) {
    case 'socket': {
      argCount(env, s, 3);
      const a0 = arg(env, s, 0);
      const domain = a0.kind === 'ellipsis' ? env.socket_domain : intValue(env, a0);
      const type = intValue(env, arg(env, s, 1));
      const protocol = intValue(env, arg(env, s, 2));
      let sock: Socket | undefined;
      return {
        attempt: () => {
          const r = Socket.create(env.net, domain, type, protocol);
          if (typeof r === 'number') return r;
          sock = r;
          return 0;
        },
        check_fd: true,
        finish: (ret) => {
          if (ret < 0 || sock === undefined) return undefined;
          const fd = s.result.kind === 'int' && s.result.value >= 0 ? s.result.value : lowestFreeFd(env);
          env.fds.set(fd, sock);
          env.onSocket(fd, sock, type & 0xf, protocol);
          return undefined;
        },
      };
    }
    case 'bind': {
      argCount(env, s, 3);
      const { fd, sock } = fdArg(env, s, 0);
      const addr = sockaddrArg(env, arg(env, s, 1), env.bind_addr);
      if (sock === undefined) return badFd();
      return {
        attempt: () => sock.bind(addr),
        check_fd: false,
        finish: (ret) => {
          if (ret === 0) env.onBind(fd, addr);
          return undefined;
        },
      };
    }
    case 'listen': {
      argCount(env, s, 2);
      const { fd, sock } = fdArg(env, s, 0);
      const backlog = intValue(env, arg(env, s, 1));
      if (sock === undefined) return badFd();
      return {
        attempt: () => sock.listen(backlog),
        check_fd: false,
        finish: (ret) => {
          if (ret === 0) env.onListen(fd);
          return undefined;
        },
      };
    }
    case 'accept':
    case 'accept4': {
      const { fd, sock } = fdArg(env, s, 0);
      if (sock === undefined) return badFd();
      const flags = s.name === 'accept4' && s.args[3] !== undefined ? intValue(env, s.args[3]) : 0;
      let child: Socket | undefined;
      return {
        attempt: () => {
          const r = sock.accept();
          if (typeof r === 'number') return r === -EAGAIN && isBlocking(sock, 0) ? 'again' : r;
          child = r;
          if ((flags & SYMBOLS.SOCK_NONBLOCK!) !== 0) child.file_flags |= FCNTL.O_NONBLOCK;
          return 0;
        },
        check_fd: true,
        finish: (ret) => {
          if (ret < 0 || child === undefined) return undefined;
          const nfd = s.result.kind === 'int' && s.result.value >= 0 ? s.result.value : lowestFreeFd(env);
          env.fds.set(nfd, child);
          return env.onAccept(fd, nfd, child);
        },
      };
    }
    case 'connect': {
      argCount(env, s, 3);
      const { fd, sock } = fdArg(env, s, 0);
      const a1 = arg(env, s, 1);
      const unspec = a1.kind !== 'ellipsis' && a1.kind !== 'struct';
      const addr: Sockaddr | { family: 0 } = unspec ? { family: 0 } : sockaddrArg(env, a1, env.connect_addr);
      if (sock === undefined) return badFd();
      let started = false;
      return {
        attempt: () => {
          if (!started) {
            started = true;
            env.onConnect(fd, addr.family === 0 ? undefined : addr);
            const r = sock.connect(addr as Sockaddr);
            return r === -EINPROGRESS && isBlocking(sock, 0) ? 'again' : r;
          }
          // A sleeping connect() wakes to the socket's state; asking again tells it.
          const r = sock.connect(addr as Sockaddr);
          if (r === -EALREADY || r === -EINPROGRESS) return 'again';
          return r === -EISCONN ? 0 : r;
        },
        check_fd: false,
        finish: () => undefined,
      };
    }
    case 'close': {
      argCount(env, s, 1);
      const { fd, sock } = fdArg(env, s, 0);
      if (sock === undefined) return badFd();
      return {
        attempt: () => sock.close(),
        check_fd: false,
        finish: (ret) => {
          if (ret === 0) {
            env.fds.delete(fd);
            env.onClose(fd);
          }
          return undefined;
        },
      };
    }
    case 'shutdown': {
      argCount(env, s, 2);
      const { sock } = fdArg(env, s, 0);
      const how = intValue(env, arg(env, s, 1));
      if (sock === undefined) return badFd();
      return done0(() => sock.shutdown(how));
    }
    case 'write':
    case 'send':
    case 'sendto': {
      const { fd, sock } = fdArg(env, s, 0);
      const len = intValue(env, arg(env, s, 2));
      const flags = s.name === 'write' ? 0 : intValue(env, arg(env, s, 3));
      // sendto(fd, ..., len, flags, ..., ...) sends to the run's remote address, as packetdrill's does.
      const to = s.name === 'sendto' ? sockaddrArg(env, arg(env, s, 4), env.connect_addr) : undefined;
      if (sock === undefined) return badFd();
      const data = new Uint8Array(len);
      let sent = 0;
      return {
        attempt: () => {
          if (to !== undefined && sent === 0) env.onConnect(fd, to);
          const chunk = sent === 0 ? data : data.subarray(sent);
          const r = to !== undefined ? sock.sendto(chunk, to, flags) : sock.send(chunk, flags);
          if (r < 0) {
            if (r === -EAGAIN && isBlocking(sock, flags)) return 'again';
            return sent > 0 ? sent : r;
          }
          sent += r;
          if (sent < len && isBlocking(sock, flags) && sock.type === 1) return 'again';
          return sent;
        },
        check_fd: false,
        finish: () => undefined,
      };
    }
    case 'read':
    case 'recv':
    case 'recvfrom': {
      const { sock } = fdArg(env, s, 0);
      const len = intValue(env, arg(env, s, 2));
      const flags = s.name === 'read' ? 0 : intValue(env, arg(env, s, 3));
      if (sock === undefined) return badFd();
      const buf = new Uint8Array(len);
      return {
        attempt: () => {
          const r = sock.recv(buf, flags);
          return r === -EAGAIN && isBlocking(sock, flags) ? 'again' : r;
        },
        check_fd: false,
        finish: () => undefined,
      };
    }
    case 'setsockopt': {
      const { sock } = fdArg(env, s, 0);
      const level = intValue(env, arg(env, s, 1));
      const name = intValue(env, arg(env, s, 2));
      const value = sockoptValue(env, arg(env, s, 3));
      if (sock === undefined) return badFd();
      return done0(() => sock.setsockopt(level, name, value));
    }
    case 'getsockopt': {
      const { sock } = fdArg(env, s, 0);
      const level = intValue(env, arg(env, s, 1));
      const name = intValue(env, arg(env, s, 2));
      const want = arg(env, s, 3);
      if (sock === undefined) return badFd();
      let got: SockoptValue = 0;
      return {
        attempt: () => {
          const r = sock.getsockopt(level, name);
          got = r.value;
          return r.err;
        },
        check_fd: false,
        finish: (ret) => {
          if (ret < 0 || want.kind === 'ellipsis') return undefined;
          if (want.kind === 'string') {
            const g = typeof got === 'string' ? got : got instanceof Uint8Array ? Buffer.from(got).toString().replace(/\0+$/, '') : `${got}`;
            return g === want.value ? undefined : `Bad getsockopt optval: expected: "${want.value}" actual: "${g}"`;
          }
          const w = bracketed(env, want);
          const g = typeof got === 'number' ? got : got instanceof Uint8Array && got.length >= 4 ? new DataView(got.buffer, got.byteOffset).getInt32(0, true) : NaN;
          return g === w ? undefined : `Bad getsockopt optval: expected: ${w} actual: ${typeof got === 'string' ? `"${got}"` : g}`;
        },
      };
    }
    case 'fcntl': {
      const { sock } = fdArg(env, s, 0);
      const cmd = intValue(env, arg(env, s, 1));
      const a = s.args[2] === undefined ? 0 : intValue(env, s.args[2]);
      if (sock === undefined) return badFd();
      return done0(() => sock.fcntl(cmd, a));
    }
    case 'ioctl': {
      const { sock } = fdArg(env, s, 0);
      const req = intValue(env, arg(env, s, 1));
      const want = arg(env, s, 2);
      if (sock === undefined) return badFd();
      if (req === SYMBOLS.FIONBIO) {
        const on = bracketed(env, want) !== 0;
        return done0(() => sock.fcntl(FCNTL.F_SETFL, on ? sock.file_flags | FCNTL.O_NONBLOCK : sock.file_flags & ~FCNTL.O_NONBLOCK));
      }
      if (req !== SYMBOLS.FIONREAD) err(env, arg(env, s, 1), 'unsupported ioctl (FIONREAD/SIOCINQ and FIONBIO are)');
      let avail = 0;
      return {
        attempt: () => {
          // The bytes a read would return now: a peek that does not wait.
          const r = sock.recv(new Uint8Array(1 << 20), MSG.MSG_PEEK | MSG.MSG_DONTWAIT);
          avail = r > 0 ? r : 0;
          return r < 0 && r !== -EAGAIN ? r : 0;
        },
        check_fd: false,
        finish: (ret) => {
          if (ret < 0 || want.kind === 'ellipsis') return undefined;
          const w = bracketed(env, want);
          return w === avail ? undefined : `Bad ioctl FIONREAD value: expected: ${w} actual: ${avail}`;
        },
      };
    }
    case 'writev':
    case 'sendmsg': {
      const { sock } = fdArg(env, s, 0);
      const len = s.name === 'writev' ? iovLength(env, arg(env, s, 1)) : msgLength(env, arg(env, s, 1));
      const flags = s.name === 'sendmsg' ? intValue(env, arg(env, s, 2)) : 0;
      if (sock === undefined) return badFd();
      return prepareCall(env, { ...s, name: 'send', args: [arg(env, s, 0), { kind: 'ellipsis', loc: s.name_loc }, { kind: 'int', value: len, loc: s.name_loc }, { kind: 'int', value: flags, loc: s.name_loc }] });
    }
    case 'readv':
    case 'recvmsg': {
      const { sock } = fdArg(env, s, 0);
      const len = s.name === 'readv' ? iovLength(env, arg(env, s, 1)) : msgLength(env, arg(env, s, 1));
      const flags = s.name === 'recvmsg' ? intValue(env, arg(env, s, 2)) : 0;
      if (sock === undefined) return badFd();
      return prepareCall(env, { ...s, name: 'recv', args: [arg(env, s, 0), { kind: 'ellipsis', loc: s.name_loc }, { kind: 'int', value: len, loc: s.name_loc }, { kind: 'int', value: flags, loc: s.name_loc }] });
    }
    case 'poll':
      return pollCall(env, s);
    default:
      return err(env, { loc: s.name_loc }, `unsupported system call ${s.name}() (${[...SUPPORTED].join(', ')})`);
  }
}

function done0(f: () => number): Call {
  return { attempt: f, check_fd: false, finish: () => undefined };
}

function lowestFreeFd(env: SyscallEnv): number {
  let fd = 3;
  while (env.fds.has(fd)) fd++;
  return fd;
}

/** `[{..., 1000}, {..., 500}]`: the bytes an iovec array covers. */
function iovLength(env: SyscallEnv, e: Expr): number {
  if (e.kind !== 'list') return err(env, e, `expected an iovec array [{..., len}], found ${describe(e)}`);
  let n = 0;
  for (const v of e.items) {
    if (v.kind !== 'struct' || v.items.length !== 2 || v.items[0]!.kind !== 'ellipsis') err(env, v, 'expected an iovec {..., len}');
    n += intValue(env, v.items[1]!);
  }
  return n;
}

/** `{msg_name(...)=..., msg_iov(1)=[{..., 1000}], msg_flags=0}`: the bytes its iovecs cover. */
function msgLength(env: SyscallEnv, e: Expr): number {
  if (e.kind !== 'struct') return err(env, e, `expected a msghdr {msg_name(...)=..., msg_iov(N)=[...], msg_flags=0}, found ${describe(e)}`);
  for (const f of e.items) {
    if (f.kind === 'assign' && f.name === 'msg_iov') return iovLength(env, f.value);
    if (f.kind === 'assign' && f.name === 'msg_control') err(env, f, 'unsupported construct: msg_control in a msghdr');
  }
  return err(env, e, 'a msghdr without msg_iov');
}

/** poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, timeout_ms): revents compared; a timeout waits, then 0. */
function pollCall(env: SyscallEnv, s: SyscallSpec): Call {
  const list = arg(env, s, 0);
  if (list.kind !== 'list') err(env, list, 'expected [{fd=N, events=..., revents=...}]');
  const fds = list.items.map((p) => {
    if (p.kind !== 'struct') return err(env, p, 'expected {fd=N, events=..., revents=...}');
    let fd = -1;
    let events = 0;
    let revents = 0;
    for (const f of p.items) {
      if (f.kind !== 'assign') err(env, f, 'expected field=value');
      if (f.name === 'fd') fd = intValue(env, f.value);
      else if (f.name === 'events') events = intValue(env, f.value);
      else if (f.name === 'revents') revents = intValue(env, f.value);
      else err(env, f, `unknown pollfd field ${f.name}`);
    }
    return { fd, events, revents };
  });
  const timeout = intValue(env, arg(env, s, 2));
  let start: number | undefined;
  let got: number[] = [];
  // POLLERR, POLLHUP and POLLNVAL are reported whether asked for or not.
  const ALWAYS = 0x8 | 0x10 | 0x20;
  const scan = (): number => {
    got = fds.map((p) => {
      const sock = env.fds.get(p.fd);
      if (sock === undefined) return 0x20;
      return sock.poll() & (p.events | ALWAYS);
    });
    return got.filter((r) => r !== 0).length;
  };
  return {
    attempt: () => {
      start ??= env.nowUs();
      const n = scan();
      if (n > 0 || timeout === 0) return n;
      if (timeout > 0 && env.nowUs() >= start + timeout * 1000) return 0;
      return 'again';
    },
    check_fd: false,
    wake_us: () => (start === undefined || timeout <= 0 ? undefined : start + timeout * 1000),
    finish: () => {
      for (let i = 0; i < fds.length; i++) {
        if (got[i] !== fds[i]!.revents) return `Expected revents of 0x${fds[i]!.revents.toString(16)} but got 0x${(got[i] ?? 0).toString(16)} for pollfd ${i}`;
      }
      return undefined;
    },
  };
}

const SUPPORTED = new Set([
  'socket', 'bind', 'listen', 'accept', 'accept4', 'connect', 'close', 'shutdown', 'read', 'write', 'readv', 'writev',
  'send', 'recv', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'setsockopt', 'getsockopt', 'fcntl', 'ioctl', 'poll',
]);

/**
 * Checks a call before the script runs: a system call vxo has, symbols it knows (or --define'd),
 * an errno it knows. Throws ScriptError naming the line and column.
 */
export function checkSyscall(file: string, defines: ReadonlyMap<string, string>, s: SyscallSpec): void {
  const fail = (loc: { line: number; col: number }, msg: string): never => {
    throw new ScriptError(file, loc, msg);
  };
  if (!SUPPORTED.has(s.name)) fail(s.name_loc, `unsupported system call ${s.name}() (${[...SUPPORTED].join(', ')})`);
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'word':
        if (SYMBOLS[e.name] === undefined && ERRNOS[e.name] === undefined && !defines.has(e.name)) fail(e.loc, `unknown symbol ${e.name}`);
        return;
      case 'or': walk(e.lhs); walk(e.rhs); return;
      case 'list': case 'struct': e.items.forEach(walk); return;
      case 'assign': walk(e.value); return;
      case 'call':
        if (!['htons', 'inet_addr', 'inet6_addr', 'msg_name', 'msg_iov'].includes(e.name)) fail(e.loc, `unsupported expression ${e.name}(...)`);
        return;
      default:
        return;
    }
  };
  s.args.forEach(walk);
  walk(s.result);
  if (s.errno !== undefined && ERRNOS[s.errno.name] === undefined) fail(s.errno.loc, `unknown errno ${s.errno.name}`);
}
