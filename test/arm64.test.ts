import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuinfoArch, emulation } from '../src/core/machine.js';
import { NOT_MEANINGFUL } from '../src/report/columns.js';
import { compareReports, DEFAULT_COMPARE } from '../src/report/compare.js';
import { renderHtml } from '../src/report/html.js';
import { readReport, type BenchReport, type ParityReport } from '../src/report/schema.js';
import { benchTable } from '../src/report/table.js';
import { BENCH_A0_BACKEND, benchA0, cli, isOneLineError, shortClip, tempDir } from './helpers.js';

const tmp = tempDir('movinet-arm64-');
const file = (name: string) => path.join(tmp, name);
const hostCpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
// Detection is what is tested here, and "real" runs must be real: a MOVINET_EMULATED this process inherited
// would answer for both, in it and in the CLI it starts.
delete process.env.MOVINET_EMULATED;

/** What an arm64 kernel writes (a Raspberry Pi 5's first CPU). */
const ARM64_CPUINFO = [
  'processor\t: 0',
  'BogoMIPS\t: 108.00',
  'Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp',
  'CPU implementer\t: 0x41',
  'CPU architecture: 8',
  'CPU part\t: 0xd0b',
].join('\n');

test('an emulator is told by the CPU the kernel describes: another instruction set than Node runs', (t) => {
  const host = cpuinfoArch(hostCpuinfo);
  t.is(host, process.arch === 'arm64' ? 'arm' : 'x86');
  t.is(cpuinfoArch(ARM64_CPUINFO), 'arm');
  // Natively, nothing is emulated; a Node of the other instruction set reading this host's cpuinfo is.
  t.is(emulation(process.arch, hostCpuinfo), undefined);
  const other = process.arch === 'arm64' ? 'x64' : 'arm64';
  t.is(emulation(other, hostCpuinfo), `${other} Node on an ${host} CPU (user-mode emulation)`);
  t.is(emulation('x64', ARM64_CPUINFO), 'x64 Node on an arm CPU (user-mode emulation)');
  // A Pi's own kernel, for a 64-bit or a 32-bit (armhf) Node: native.
  t.is(emulation('arm64', ARM64_CPUINFO), undefined);
  t.is(emulation('arm', ARM64_CPUINFO), undefined);
  t.is(emulation('ia32', hostCpuinfo.includes('vendor_id') ? hostCpuinfo : ''), undefined);
  // A cpuinfo that names no instruction set tells nothing.
  t.is(emulation('arm64', ''), undefined);
  // Named, it is what the emulator's runner says, whatever the cpuinfo.
  t.is(emulation('arm64', ARM64_CPUINFO, 'qemu-aarch64 (this test)'), 'qemu-aarch64 (this test)');
  t.is(emulation('arm64', ARM64_CPUINFO, ' '), undefined, 'a blank name names nothing');
});

const bench = (out: string, env: Record<string, string>, machine: string): BenchReport =>
  benchA0(out, ['--machine', machine], env);

test('an emulated run shows no latency: n/m in the table and page, never compared, never charted', async (t) => {
  const emulated = bench(file('emulated.json'), { MOVINET_EMULATED: 'qemu-aarch64 (this test)' }, 'pi-emulated');
  const real = bench(file('real.json'), {}, 'pi-emulated');
  t.is(emulated.results[0]!.machine.emulated, 'qemu-aarch64 (this test)');
  t.is(emulated.environment.emulated, 'qemu-aarch64 (this test)');
  t.is(real.results[0]!.machine.emulated, undefined);
  const table = benchTable(emulated);
  const row = table.split('\n').find((l) => l.includes(BENCH_A0_BACKEND))!;
  t.true(row.includes(NOT_MEANINGFUL), table);
  t.false(/\d+\.\d\d/.test(row.replace(/a0-int8/, '')), row);
  t.regex(
    table,
    /n\/m: pi-emulated is emulated \(qemu-aarch64 \(this test\)\); its latency and memory are not meaningful/,
  );
  t.false(/warning .*overhead|long tail/.test(table), 'no timing warning for an emulated row');
  const c = compareReports(real, emulated, DEFAULT_COMPARE);
  t.deepEqual(
    c.rows.map((r) => [r.verdict, r.gates, r.new]),
    [['not compared', false, null]],
  );
  t.regex(c.rows[0]!.note ?? '', /emulated \(qemu-aarch64 \(this test\)\): latency not meaningful/);
  const html = await renderHtml([emulated]);
  t.regex(html, /n\/m: pi-emulated is emulated/);
  t.false(html.includes('id="latency-charts"'), 'an emulated run draws no latency chart');
});

test('parity --logits-out keeps each backend, --against compares a backend with its kept self (name@platform)', (t) => {
  const clips = file('clips');
  fs.mkdirSync(path.join(clips, 'arm wrestling'), { recursive: true });
  const arm = shortClip('arm_wrestling__mmaction2-demo.mp4', 3);
  fs.symlinkSync(arm, path.join(clips, 'arm wrestling', path.basename(arm)));
  const kept = file('kept');
  const first = cli([
    'parity',
    ...['--models', 'a0', '--backends', 'tfjs-tflite,onnxruntime-exact', '--dataset', clips],
    ...['--logits-out', kept, '--out', file('first.json')],
  ]);
  t.is(first.code, 0, first.stderr);
  const second = cli([
    'parity',
    ...['--models', 'a0', '--backends', 'onnxruntime-exact', '--dataset', clips],
    ...['--against', kept, '--out', file('second.json')],
  ]);
  t.is(second.code, 0, second.stderr);
  const r = readReport(file('second.json')) as ParityReport;
  const here = `${os.platform()}-${process.arch}`;
  t.deepEqual(
    r.pairs.map((p) => [p.reference, p.backend]),
    [[`onnxruntime-exact@${here}`, `onnxruntime-exact@${here}`]],
  );
  // The same runtime on the same platform: bit for bit.
  t.is(r.pairs[0]!.maxAbsLogitDiff, 0);
  t.true(r.pairs[0]!.frames > 10);
  // Other clips, or another decode rate, than were kept: refused in one line.
  const other = cli([
    'parity',
    ...['--models', 'a0', '--backends', 'tfjs-tflite', '--dataset', clips, '--fps', '4'],
    ...['--against', kept, '--out', file('third.json')],
  ]);
  t.is(other.code, 2);
  t.true(isOneLineError(other.stderr), other.stderr);
  t.regex(other.stderr, /kept at 5 fps/);
  t.false(fs.existsSync(file('third.json')));
});
