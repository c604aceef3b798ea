// The one kind of shell line a script may carry: `sysctl -q name=value ...` (or -w) for the
// net.* sysctls vxo has, set on the run's netns (net.ipv4.tcp_syncookies is
// net.ipv4.sysctl_tcp_syncookies). vxo runs no shell: any other command is refused.
import type { Net } from '../../net/core/net-namespace.ts';

/** Splits a command line into words, honouring "double" and 'single' quotes. */
function words(cmd: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let i = 0;
  const s = cmd.trim();
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      if (cur !== '') out.push(cur);
      cur = '';
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const j = s.indexOf(c, i + 1);
      if (j < 0) return undefined;
      cur += s.slice(i + 1, j);
      i = j + 1;
      continue;
    }
    if (';|&<>`$()'.includes(c)) return undefined;
    cur += c;
    i++;
  }
  if (cur !== '') out.push(cur);
  return out;
}

function table(net: Net, name: string): [Record<string, unknown>, string] | undefined {
  const m = /^net\.(ipv4|ipv6|core)\.([a-z0-9_]+)$/.exec(name);
  if (m === null) return undefined;
  const obj = (m[1] === 'ipv4' ? net.ipv4 : m[1] === 'ipv6' ? net.ipv6 : net.core) as unknown as Record<string, unknown>;
  for (const field of [`sysctl_${m[2]}`, m[2]!]) if (field in obj) return [obj, field];
  return undefined;
}

/**
 * Runs a backquoted command. Returns undefined when done, or the reason it is refused (not a
 * sysctl line, an unknown sysctl, a bad value).
 */
export function runCommand(net: Net, cmd: string): string | undefined {
  const w = words(cmd);
  const refuse = `shell command \`${cmd}\` is not run: vxo runs no shell; only \`sysctl -q net.<...>=<value>\` lines for the sysctls vxo has are recognised`;
  if (w === undefined || w[0] !== 'sysctl') return refuse;
  const assigns: [string, string][] = [];
  for (const a of w.slice(1)) {
    if (/^-[qwe]+$/.test(a)) continue;
    const eq = a.indexOf('=');
    if (eq <= 0) return refuse;
    assigns.push([a.slice(0, eq), a.slice(eq + 1)]);
  }
  if (assigns.length === 0) return refuse;
  for (const [name, value] of assigns) {
    const t = table(net, name);
    if (t === undefined) return `sysctl ${name}: vxo has no such sysctl (net.ipv4.*, net.ipv6.*, net.core.* fields of the netns)`;
    const [obj, field] = t;
    const cur = obj[field];
    if (typeof cur === 'number') {
      const v = Number(value);
      if (value.trim() === '' || !Number.isFinite(v)) return `sysctl ${name}: ${JSON.stringify(value)} is not a number`;
      obj[field] = v;
    } else if (typeof cur === 'boolean') {
      if (!/^[01]$/.test(value)) return `sysctl ${name}: expected 0 or 1, got ${JSON.stringify(value)}`;
      obj[field] = value === '1';
    } else if (typeof cur === 'string') {
      obj[field] = value;
    } else if (Array.isArray(cur)) {
      const parts = value.trim().split(/\s+/).map(Number);
      if (parts.length !== cur.length || parts.some((x) => !Number.isFinite(x))) return `sysctl ${name}: expected ${cur.length} numbers, got ${JSON.stringify(value)}`;
      obj[field] = parts;
    } else return `sysctl ${name}: vxo cannot set this sysctl from a script`;
  }
  return undefined;
}
