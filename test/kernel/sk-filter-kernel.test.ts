// Socket filters against the running kernel: a UDP socket in a scratch netns with a filter that
// returns a constant (a classic one-instruction filter, SO_ATTACH_FILTER: the kernel converts it
// to eBPF and runs it through the same sk_filter_trim_cap as SO_ATTACH_BPF) receives two
// datagrams. What the socket reads, its drop counter (/proc/net/udp) and Udp InErrors are what
// vxo's socket with the same constant as an eBPF SOCKET_FILTER gives, on both engines: 0 drops
// and counts, N keeps N bytes from the UDP header on (never less than the header), -1 keeps all.
import { spawnSync } from 'node:child_process';
import { kernelTest } from '../support/kernel-test.ts';
import { ENGINES, ret, sockProg, threeHosts, udpSocket } from '../net/cls-bpf-progs.ts';
import { sk_attach_bpf } from '../../net/core/sk-filter.ts';

const RETS = [0, 13, 3, 9, -1];
const MSGS = ['hello world', 'hi'];

interface Outcome {
  got: string[];
  drops: number;
  inErrors: number;
}

/** Run inside the netns: per filter value, a fresh socket on 127.0.0.1, the messages, what was read and counted. */
const SCRIPT = `
import ctypes, json, socket, struct, sys, time
def udp_stat(name):
    lines = [l.split() for l in open('/proc/net/snmp') if l.startswith('Udp:')]
    return int(lines[1][lines[0].index(name)])
def sk_drops(port):
    for l in open('/proc/net/udp').read().splitlines()[1:]:
        f = l.split()
        if int(f[1].split(':')[1], 16) == port:
            return int(f[-1])
    return -1
out = []
msgs = json.loads(sys.argv[1])
for r in json.loads(sys.argv[2]):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(('127.0.0.1', 0))
    port = srv.getsockname()[1]
    insn = ctypes.create_string_buffer(struct.pack('HBBI', 0x06, 0, 0, r & 0xffffffff))
    srv.setsockopt(socket.SOL_SOCKET, 26, struct.pack('@HP', 1, ctypes.addressof(insn)))
    srv.setblocking(False)
    before = udp_stat('InErrors')
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for m in msgs:
        cli.sendto(m.encode(), ('127.0.0.1', port))
    time.sleep(0.02)
    got = []
    while True:
        try:
            got.append(srv.recv(256).decode())
        except BlockingIOError:
            break
    out.append({'got': got, 'drops': sk_drops(port), 'inErrors': udp_stat('InErrors') - before})
    srv.close()
    cli.close()
print(json.dumps(out))
`;

function sh(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function vxoOutcome(r: number, engine: (typeof ENGINES)[number]): Outcome {
  const h = threeHosts();
  const srv = udpSocket(h.a);
  if (srv.bind({ family: 2, addr: 0, port: 7000 }) !== 0) throw new Error('bind');
  if (sk_attach_bpf(srv.sk, sockProg(ret(r)), { engine }) !== 0) throw new Error('attach');
  const cli = udpSocket(h.b);
  for (const m of MSGS) cli.sendto(new TextEncoder().encode(m), { family: 2, addr: h.a4, port: 7000 });
  h.pump();
  const got: string[] = [];
  const buf = new Uint8Array(256);
  for (;;) {
    const n = srv.recv(buf);
    if (n < 0) break;
    got.push(new TextDecoder().decode(buf.subarray(0, n)));
  }
  return { got, drops: srv.sk.sk_drops, inErrors: h.a.mib.udp.InErrors };
}

kernelTest('socket filter verdicts: what a UDP socket reads and counts is the kernel\'s', (t) => {
  if (sh('python3', ['-c', 'print(1)']).status !== 0) {
    t.log('python3 is not available to drive the kernel socket');
    t.pass();
    return;
  }
  const ns = `vxo-h5s-${process.pid}`;
  if (sh('ip', ['netns', 'add', ns]).status !== 0) {
    t.log('no scratch netns');
    t.pass();
    return;
  }
  try {
    t.is(sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']).status, 0);
    const r = sh('ip', ['netns', 'exec', ns, 'python3', '-c', SCRIPT, JSON.stringify(MSGS), JSON.stringify(RETS)]);
    t.is(r.status, 0, r.stderr);
    const kernel = JSON.parse(r.stdout) as Outcome[];
    t.deepEqual(kernel[0], { got: [], drops: 2, inErrors: 2 }, 'the kernel: 0 drops and counts');
    RETS.forEach((v, i) => {
      for (const engine of ENGINES) t.deepEqual(vxoOutcome(v, engine), kernel[i], `return ${v} (${engine})`);
    });
  } finally {
    sh('ip', ['netns', 'del', ns]);
  }
});
