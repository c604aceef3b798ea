// The packed tarball, installed into a scratch project, used the ways an npm user would: no
// TypeScript loader, no vxo sources, the user's own compiler options.
import test from 'ava';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { udp64 } from '../support/packets.ts';
import { REPO_ROOT } from '../support/vm.ts';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

const work = mkdtempSync(join(tmpdir(), 'vxo-pack-'));
const proj = join(work, 'proj');
let tarball = '';
let files: string[] = [];

function run(cmd: string, args: string[], cwd: string, input?: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', input, timeout: 180_000 });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test.before(() => {
  // `npm pack` runs `prepare`, which builds dist/ from the sources.
  const out = ok(run(NPM, ['pack', '--json', '--pack-destination', work], REPO_ROOT), 'npm pack');
  const [info] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info!.filename);
  files = info!.files.map((f) => f.path);
  execFileSync('mkdir', ['-p', proj]);
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true, type: 'module' }));
  // Dependencies come from npm's cache where they are (npm ci filled it), from the registry otherwise.
  ok(run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], proj), 'npm install of the tarball');
});

test('the tarball holds the build, the XDP objects and their sources, README and LICENSE, not the tests', (t) => {
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/index.js.map', 'dist/bpf-vm/index.js', 'dist/bpf-vm/index.d.ts', 'dist/net/index.js',
    'dist/scenarios/cli/main.js', 'bin/vxo.js', 'scenarios/xdp/xdp1.o', 'scenarios/xdp/xdp1.c', 'scenarios/xdp/proto_parse.h',
    'scenarios/xdp/Makefile', 'scenarios/sk/dispatch.o', 'scenarios/sk/dispatch.c', 'scenarios/sk/sk_common.h', 'scenarios/sk/syncookie.h', 'scenarios/sk/vmlinux.h', 'scenarios/sk/Makefile',
    'README.md', 'LICENSE', 'package.json']) t.true(files.includes(f), f);
  t.deepEqual(files.filter((f) => f.startsWith('test/') || f.startsWith('bench/')), []);
  t.deepEqual(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), [], 'no TypeScript sources');
  // tsx is for development: the installed package runs without it.
  t.false(existsSync(join(proj, 'node_modules/tsx')));
});

test('plain Node imports it (import and require), and the three entry points', (t) => {
  const imp = ok(run(process.execPath, ['-e', "import('vxo').then((m) => console.log(typeof m.createDeviceModel, typeof m.loadObjectFile, typeof m.VerifierError, typeof m.runScenario))"], proj), 'import');
  t.is(imp.trim(), 'function function function function');
  const sub = ok(run(process.execPath, ['--input-type=module', '-e', "import { assemble } from 'vxo/bpf-vm'; console.log(assemble('mov r0, 1\\nexit').length)"], proj), 'vxo/bpf-vm');
  t.is(sub.trim(), '2');
  const net = ok(run(process.execPath, ['--input-type=module', '-e',
    "import { NetStack, AF_INET, SOCK_DGRAM } from 'vxo/net'; const s = new NetStack({ seed: 1 }); const so = s.socket(AF_INET, SOCK_DGRAM); console.log(s.lo.name, typeof so === 'object' && so.bind({ family: AF_INET, addr: 0x7f000001, port: 9 }))"], proj), 'vxo/net');
  t.is(net.trim(), 'lo 0', 'a stack from vxo/net: lo, and a UDP socket bound on it');
  // The dispatcher finds its committed object in the installed package and attaches to a stack.
  const disp = ok(run(process.execPath, ['--input-type=module', '-e',
    "import { Dispatcher } from 'vxo'; import { NetStack } from 'vxo/net'; const s = new NetStack({ seed: 1 }); const d = new Dispatcher(s.net); d.addBinding({ label: 'web', protocol: 'tcp', prefix: '192.0.2.0/24', port: 80 }); console.log(d.bindings().length, d.metrics().lookups)"], proj), 'Dispatcher');
  t.is(disp.trim(), '1 0', 'a dispatcher from the installed package: one binding, no lookups yet');
  // Node 20.19 and later load an ES module from require() (no top-level await in the library).
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  if (major > 20 || (major === 20 && minor >= 19)) {
    t.is(ok(run(process.execPath, ['-e', "console.log(typeof require('vxo').bpfProgTestRun)"], proj), 'require').trim(), 'function');
  }
});

const SCRIPT = `import { readFileSync } from 'node:fs';
import {
  BPF_MAP_TYPE, createDeviceModel, ebpfCmd, offloadInsns, parseElf, readU64le, u32le, u64le, XDP_ACTION, VerifierError,
} from 'vxo';

const dev = createDeviceModel();
const spec = { mapType: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 256 };
const created = dev.submit(ebpfCmd.createMap(spec));
if (!created.ok || created.handle === undefined) throw new Error(created.text);
const rxcnt = { ...spec, handle: created.handle };
const obj = parseElf(readFileSync(new URL('scenarios/xdp/xdp1.o', import.meta.resolve('vxo/package.json'))));
const xdp1 = obj.programs.find((p) => p.name === 'xdp1');
if (xdp1 === undefined) throw new Error('no xdp1');
const attached = dev.submit(ebpfCmd.setOffload({ insns: offloadInsns(xdp1, { rxcnt: rxcnt.handle }), gplCompatible: true, meta: { name: 'xdp1' } }));
if (!attached.ok) throw new Error(attached.text);
const frame = new Uint8Array(60);
frame.set([0x08, 0x00], 12);
frame[14] = 0x45;
frame[23] = 17;
const action = dev.runXdp(frame).action;
const count = readU64le(dev.submit(ebpfCmd.lookupElem(rxcnt, u32le(17))).data);
console.log(action === XDP_ACTION.XDP_DROP, count, VerifierError.name, u64le(1).length);
`;

test('an ESM script drives the device model from the installed package', (t) => {
  writeFileSync(join(proj, 'offload.mjs'), SCRIPT);
  t.is(ok(run(process.execPath, ['offload.mjs'], proj), 'offload.mjs').trim(), 'true 1n VerifierError 8');
});

// The TypeScript user's file uses vxo alone: a default `tsc --init` config (TypeScript 5.9) sets
// `types: []`, so Node's own modules need the user's @types/node and a `types` entry.
const TS_SCRIPT = `import {
  BPF_MAP_TYPE, assemble, createDeviceModel, ebpfCmd, encodeInsns, readU64le, u32le, u64le, XDP_ACTION, VerifierError,
  type DeviceReply, type EbpfMapRef,
} from 'vxo';

const dev = createDeviceModel();
const spec = { mapType: BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 16 };
const created: DeviceReply = dev.submit(ebpfCmd.createMap(spec));
if (!created.ok || created.handle === undefined) throw new Error(created.text);
const m: EbpfMapRef = { ...spec, handle: created.handle };
dev.submit(ebpfCmd.updateElem(m, u32le(1), u64le(41n)));
const value: bigint = readU64le(dev.submit(ebpfCmd.lookupElem(m, u32le(1))).data);
const insns = encodeInsns(assemble('mov r0, 1\\nexit'));
const attached = dev.submit(ebpfCmd.setOffload({ insns, gplCompatible: true, meta: { name: 'drop' } }));
const dropped: boolean = dev.runXdp(new Uint8Array(60)).action === XDP_ACTION.XDP_DROP;
const err: typeof VerifierError = VerifierError;
export { value, attached, dropped, err };
`;

test("TypeScript with a default `tsc --init` config type-checks a user's file against the declarations", (t) => {
  ok(run(process.execPath, [TSC, '--init'], proj), 'tsc --init');
  writeFileSync(join(proj, 'offload.ts'), TS_SCRIPT);
  // A deliberate mistake must be caught: the declarations are really read, not `any`.
  writeFileSync(join(proj, 'wrong.ts'), "import { createDeviceModel } from 'vxo';\nconst n: string = createDeviceModel().submit;\nexport { n };\n");
  const bad = run(process.execPath, [TSC, '--noEmit', '-p', '.'], proj);
  t.is(bad.status, 2, bad.stdout);
  t.deepEqual(bad.stdout.split('\n').filter((l) => /error TS/.test(l)).map((l) => l.split('(')[0]), ['wrong.ts']);
  execFileSync('rm', [join(proj, 'wrong.ts')]);
  const good = run(process.execPath, [TSC, '--noEmit', '-p', '.'], proj);
  t.is(good.status, 0, good.stdout);
  // And it runs: tsc's own output, by plain Node.
  ok(run(process.execPath, [TSC, '-p', '.', '--outDir', 'out', '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false'], proj), 'tsc emit');
  t.is(ok(run(process.execPath, ['--input-type=module', '-e', "const m = await import('./out/offload.js'); console.log(m.value, m.dropped)"], proj), 'run').trim(), '41n true');
});

test('the vxo command runs from node_modules/.bin without a TypeScript loader', (t) => {
  const vxo = join(proj, 'node_modules/.bin/vxo');
  t.regex(ok(run(vxo, ['--version'], proj), '--version').trim(), /^\d+\.\d+\.\d+/);
  writeFileSync(join(proj, 'pkt.bin'), udp64());
  const r = ok(run(vxo, ['prog', 'run', 'node_modules/vxo/scenarios/xdp/xdp1.o', '--data-in', 'pkt.bin', '--json'], proj), 'prog run');
  t.is((JSON.parse(r) as { retval: number }).retval, 1);
  t.is(run(vxo, ['prog', 'verify', 'node_modules/vxo/scenarios/xdp/xdp2.o'], proj).status, 0);
});

test('a scenario runs its four workers from the installed build', async (t) => {
  // The workers start from dist/*.js inside node_modules; the result is what `vxo run --json` prints.
  const script = "import { runScenario } from 'vxo';\n" +
    "const r = await runScenario({ case: 1, prog: 'xdp1', mode: 'offload', duration: 0.2, warmup: 0 });\n" +
    'console.log(JSON.stringify({ balanced: r.accounting.balanced, packets: r.packets, mode: r.mode }));\n';
  writeFileSync(join(proj, 'scenario.mjs'), script);
  const r = JSON.parse(ok(run(process.execPath, ['scenario.mjs'], proj), 'scenario.mjs')) as { balanced: boolean; packets: number; mode: string };
  t.true(r.balanced);
  t.true(r.packets > 0);
  t.is(r.mode, 'offload');
  t.true(readdirSync(join(proj, 'node_modules/vxo/dist/guest')).includes('worker.js'));
});

test.after.always(() => {
  execFileSync('rm', ['-rf', work]);
});
