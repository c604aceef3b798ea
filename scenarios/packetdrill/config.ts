// A run's configuration from the script's options and the command line's (the command line wins,
// as packetdrill's argv is read after the script's options): the IP version and addresses, the
// ports, the timing tolerance and the TCP timestamp checks. Defaults are packetdrill's
// (config.c), with the local addresses of the kernel selftests' runner (ksft_runner.sh).
import { inet_ntop4, inet_ntop6, inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import { ipv6_addr_set_v4mapped, In6Addr } from '../../net/core/in6-addr.ts';
import type { Sockaddr } from '../../net/core/msghdr.ts';
import type { ScriptOption } from './ast.ts';
import { ScriptError } from './errors.ts';
import type { IpAddr } from './packet-build.ts';

export type IpVersion = 'ipv4' | 'ipv6' | 'ipv4-mapped-ipv6';

export interface RunConfig {
  ip_version: IpVersion;
  local: IpAddr;
  remote: IpAddr;
  local_prefixlen: number;
  remote_prefixlen: number;
  bind_port: number;
  connect_port: number;
  tolerance_usecs: number;
  tolerance_percent: number;
  tcp_ts_tick_usecs: number;
  tcp_ts_ecr_scaled: boolean;
  check_ts_ecr: boolean;
  mtu: number;
  seed: number;
  /** --define=NAME=VALUE (-D): symbols a script's system calls may use. */
  defines: Map<string, string>;
}

/** Options packetdrill takes that change nothing on a virtual clock and an in-process stack. */
const IGNORED = new Set(['gateway_ip', 'netmask_ip', 'speed', 'init_scripts', 'strict_segments', 'non_fatal', 'verbose', 'debug', 'dry_run', 'send_omit_free', 'mss']);

export interface CliOption {
  name: string;
  value: string | undefined;
}

function ipOf(v: string, version: 'v4' | 'v6'): IpAddr {
  const a = v.split('/')[0]!;
  return version === 'v4' ? { family: 4, v4: inet_pton4(a) } : { family: 6, v6: inet_pton6(a) };
}

export function makeConfig(file: string, scriptOptions: readonly ScriptOption[], cli: readonly CliOption[] = []): RunConfig {
  const all: (ScriptOption | (CliOption & { loc: undefined }))[] = [...scriptOptions, ...cli.map((c) => ({ ...c, loc: undefined }))];
  const bad = (o: { loc: ScriptOption['loc'] | undefined; name: string }, msg: string): never => {
    throw new ScriptError(file, o.loc ?? { line: 0, col: 0 }, `--${o.name}: ${msg}`);
  };
  const cfg: RunConfig = {
    ip_version: 'ipv4', local: { family: 4, v4: 0 }, remote: { family: 4, v4: 0 }, local_prefixlen: 16, remote_prefixlen: 24,
    bind_port: 8080, connect_port: 8080, tolerance_usecs: 4000, tolerance_percent: 12.5, tcp_ts_tick_usecs: 0,
    tcp_ts_ecr_scaled: false, check_ts_ecr: true, mtu: 1500, seed: 1, defines: new Map(),
  };
  let localText: string | undefined;
  let remoteText: string | undefined;
  const num = (o: { loc: ScriptOption['loc'] | undefined; name: string; value: string | undefined }, min: number, max: number): number => {
    const v = Number(o.value);
    if (o.value === undefined || !/^[0-9.]+$/.test(o.value) || !(v >= min && v <= max)) bad(o, `expected a number from ${min} to ${max}, got ${o.value ?? 'nothing'}`);
    return v;
  };
  for (const o of all) {
    switch (o.name) {
      case 'ip_version':
        if (o.value !== 'ipv4' && o.value !== 'ipv6' && o.value !== 'ipv4-mapped-ipv6') return bad(o, 'ipv4, ipv6 or ipv4-mapped-ipv6');
        cfg.ip_version = o.value;
        break;
      case 'local_ip': localText = o.value; break;
      case 'remote_ip': remoteText = o.value; break;
      case 'bind_port': cfg.bind_port = num(o, 1, 65535); break;
      case 'connect_port': cfg.connect_port = num(o, 1, 65535); break;
      case 'tolerance_usecs': cfg.tolerance_usecs = num(o, 0, 1e9); break;
      case 'tolerance_percent': cfg.tolerance_percent = num(o, 0, 100); break;
      case 'tcp_ts_tick_usecs': cfg.tcp_ts_tick_usecs = num(o, 0, 1e9); break;
      case 'tcp_ts_ecr_scaled': cfg.tcp_ts_ecr_scaled = true; break;
      case 'no_ts_ecr_check': cfg.check_ts_ecr = false; break;
      case 'mtu': cfg.mtu = num(o, 68, 65535); break;
      case 'seed': cfg.seed = num(o, 0, 2 ** 32 - 1); break;
      case 'define':
      case 'D': {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(o.value ?? '');
        if (m === null) return bad(o, 'expected NAME=VALUE');
        cfg.defines.set(m[1]!, m[2]!);
        break;
      }
      default:
        if (!IGNORED.has(o.name)) bad(o, 'unknown or unsupported option');
    }
  }
  try {
    if (cfg.ip_version === 'ipv6') {
      cfg.local = ipOf(localText ?? 'fd3d:fa7b:d17d::1', 'v6');
      cfg.remote = ipOf(remoteText ?? '2001:db8::1', 'v6');
      cfg.local_prefixlen = 48;
      cfg.remote_prefixlen = remoteText === undefined ? 32 : 128;
    } else {
      cfg.local = ipOf(localText ?? '192.168.0.1', 'v4');
      cfg.remote = ipOf(remoteText ?? '192.0.2.1', 'v4');
    }
  } catch (e) {
    throw new ScriptError(file, { line: 0, col: 0 }, `bad address: ${(e as Error).message}`);
  }
  return cfg;
}

/** The socket-side view of an address: AF_INET6 with a v4-mapped address in ipv4-mapped-ipv6 runs. */
export function sockaddrFor(cfg: RunConfig, ip: IpAddr, port: number): Sockaddr {
  if (ip.family === 6) return { family: 10, addr: ip.v6, port };
  if (cfg.ip_version === 'ipv4-mapped-ipv6') return { family: 10, addr: ipv6_addr_set_v4mapped(ip.v4, new In6Addr()), port };
  return { family: 2, addr: ip.v4, port };
}

export function ipText(ip: IpAddr): string {
  return ip.family === 4 ? inet_ntop4(ip.v4) : inet_ntop6(ip.v6);
}

export function ipEqual(a: IpAddr, b: IpAddr): boolean {
  if (a.family === 4 && b.family === 4) return a.v4 >>> 0 === b.v4 >>> 0;
  if (a.family === 6 && b.family === 6) return a.v6.w0 === b.v6.w0 && a.v6.w1 === b.v6.w1 && a.v6.w2 === b.v6.w2 && a.v6.w3 === b.v6.w3;
  return false;
}
