import test from 'ava';
import {
  convMacs,
  convProbeSpec,
  dequantize,
  describeConv,
  floatBias,
  floatWeights,
  randomCodes,
  tfliteConvProbe,
  type ConvProbeSpec,
  type ConvShape,
  type ProbeDtype,
} from '../src/bench/roofline-models.js';
import {
  achievedGmacPerS,
  openProbe,
  PEAK_RUNTIMES,
  probeFor,
  probePeak,
  roofline,
  type PeakProbe,
  type PeakRuntime,
} from '../src/bench/roofline.js';
import { rooflineVerdict } from '../src/report/format.js';
import { parseTflite } from '../src/models/tflite.js';

/**
 * The roofline probe: its graphs compute the convolution they claim in every
 * runtime (against a JS reference, on small random data), and the real probes
 * return a usable number. No timing thresholds: the values depend on the machine.
 */

/** Every runtime a probe is made for, LiteRT included: each one's graph is checked below. */
const RUNTIMES: readonly PeakRuntime[] = [
  'tfjs-tflite',
  'litert',
  'onnxruntime',
  'onnxruntime-web',
  'tflite-native-xnnpack',
  'tflite-native-builtin',
];

test('the probe graphs below cover every runtime a probe is made for', (t) => {
  t.deepEqual([...PEAK_RUNTIMES].sort(), [...RUNTIMES].sort());
});

const SMALL: ConvShape = { size: 5, inChannels: 24, outChannels: 16 };

/** The 1x1 convolution in doubles, NHWC; int8 requantized with round-half-away and saturation. */
function referenceConv(spec: ConvProbeSpec, dtype: ProbeDtype, codes: Int8Array): Int8Array | Float32Array {
  const { size, inChannels: cin, outChannels: cout } = spec.shape;
  const x = dequantize(codes, spec.input);
  const w = floatWeights(spec);
  const b = floatBias(spec);
  const out = dtype === 'int8' ? new Int8Array(size * size * cout) : new Float32Array(size * size * cout);
  for (let p = 0; p < size * size; p++)
    for (let c = 0; c < cout; c++) {
      let acc = b[c]!;
      for (let k = 0; k < cin; k++) acc += x[p * cin + k]! * w[c * cin + k]!;
      if (dtype === 'fp32') out[p * cout + c] = acc;
      else {
        const q = acc / spec.output.scale;
        out[p * cout + c] = Math.max(
          -128,
          Math.min(127, Math.sign(q) * Math.floor(Math.abs(q) + 0.5) + spec.output.zp),
        );
      }
    }
  return out;
}

test('achievedGmacPerS is MACs per frame over the p50, in GMAC/s', (t) => {
  t.is(achievedGmacPerS(49.7e6, 10), 4.97);
  t.is(achievedGmacPerS(51_380_224, 1), 51.380224);
  t.true(Number.isNaN(achievedGmacPerS(49.7e6, 0)));
  t.true(Number.isNaN(achievedGmacPerS(49.7e6, -1)));
  t.true(Number.isNaN(achievedGmacPerS(49.7e6, Number.NaN)));
  t.true(Number.isNaN(achievedGmacPerS(0, 10)));
});

test('the probe shape: MACs and label', (t) => {
  t.is(convMacs({ size: 28, inChannels: 256, outChannels: 256 }), 51_380_224);
  t.is(describeConv(SMALL), 'CONV_2D 1x1 5x5x24->16');
});

test('the .tflite probes are one CONV_2D (int8 or fp32), or wrapped in QUANTIZE/DEQUANTIZE for float I/O', (t) => {
  const spec = convProbeSpec(SMALL);
  const ops = (bytes: Uint8Array) => parseTflite(bytes, 'probe').subgraphs[0]!.operators.map((op) => op.opcode);
  t.deepEqual(ops(tfliteConvProbe(spec, 'int8', 'int8')), ['CONV_2D']);
  t.deepEqual(ops(tfliteConvProbe(spec, 'fp32')), ['CONV_2D']);
  t.deepEqual(ops(tfliteConvProbe(spec, 'int8', 'float')), ['QUANTIZE', 'CONV_2D', 'DEQUANTIZE']);
  // Deterministic: the same spec gives the same bytes.
  t.deepEqual(tfliteConvProbe(convProbeSpec(SMALL), 'int8'), tfliteConvProbe(spec, 'int8'));
});

for (const runtime of RUNTIMES)
  for (const dtype of ['int8', 'fp32'] as const)
    test.serial(`${runtime} ${dtype}: the probe graph computes the reference 1x1 convolution`, async (t) => {
      const spec = convProbeSpec(SMALL);
      const codes = randomCodes(SMALL.size * SMALL.size * SMALL.inChannels, 'roofline/test');
      const want = referenceConv(spec, dtype, codes);
      const session = await openProbe(runtime, dtype, SMALL, 1);
      try {
        session.setInput(codes);
        await session.call();
        const got = session.output();
        t.is(got.length, want.length);
        t.is(got.constructor, want.constructor);
        let worst = 0;
        for (let i = 0; i < want.length; i++) {
          const d = Math.abs(got[i]! - want[i]!);
          // int8: one code of requantization rounding (fixed-point or float multipliers); fp32: summation order.
          worst = Math.max(worst, dtype === 'int8' ? d : d / (1e-3 + Math.abs(want[i]!)));
        }
        t.true(worst <= (dtype === 'int8' ? 1 : 1e-4), `worst difference ${worst}`);
        // The check means something: outputs spread over many codes and values, not one saturated value.
        t.true(new Set(want).size > 20, 'reference output too uniform');
      } finally {
        session.dispose();
      }
    });

for (const runtime of ['tfjs-tflite', 'onnxruntime', 'tflite-native-xnnpack'] as const)
  test.serial(`${runtime}: the real probe returns positive finite GMAC/s for int8 and fp32`, async (t) => {
    const p = await probePeak(runtime, { threads: 1, durationMs: 50 });
    t.is(p.runtime, runtime);
    t.is(p.op, 'CONV_2D 1x1 28x28x256->256');
    t.deepEqual(p.macsPerCall, { int8: 51_380_224, fp32: 51_380_224 });
    for (const v of [p.int8GmacPerS, p.fp32GmacPerS]) t.true(Number.isFinite(v) && v > 0, String(v));
    t.true(p.calls.int8 >= 3 && p.calls.fp32 >= 3);
    t.true(p.callMs.int8.best <= p.callMs.int8.median && p.callMs.fp32.best <= p.callMs.fp32.median);
    t.is(p.int8GmacPerS, achievedGmacPerS(p.macsPerCall.int8, p.callMs.int8.best));
    t.regex(p.method, /best/);
  });

test('a thread count the runtime cannot run is refused before anything loads', async (t) => {
  await t.throwsAsync(probePeak('tfjs-tflite', { threads: 2 }), { message: /at most 1 thread/ });
});

test('each backend is set beside the probe of its runtime and of the arithmetic its graph runs in', (t) => {
  t.deepEqual(probeFor('tfjs-tflite', true), { runtime: 'tfjs-tflite', dtype: 'int8' });
  t.deepEqual(probeFor('litert', false), { runtime: 'litert', dtype: 'fp32' });
  t.deepEqual(probeFor('onnxruntime', true), { runtime: 'onnxruntime', dtype: 'int8' });
  t.deepEqual(probeFor('tflite-native-xnnpack', true), { runtime: 'tflite-native-xnnpack', dtype: 'int8' });
  t.deepEqual(probeFor('tflite-native-builtin', false), { runtime: 'tflite-native-builtin', dtype: 'fp32' });
  t.deepEqual(probeFor('onnxruntime-float', true), { runtime: 'onnxruntime', dtype: 'fp32' });
  // The exact graph emulates int8 arithmetic with fp32 ops.
  t.deepEqual(probeFor('onnxruntime-exact', true), { runtime: 'onnxruntime', dtype: 'fp32' });
  t.deepEqual(probeFor('onnxruntime-web', true), { runtime: 'onnxruntime-web', dtype: 'int8' });
  t.deepEqual(probeFor('onnxruntime-web-float', true), { runtime: 'onnxruntime-web', dtype: 'fp32' });
  // The probe runs in Node: it stands for no browser row.
  t.is(probeFor('tfjs-tflite@chromium', true), null);
  t.is(probeFor('onnxruntime-web@chromium', true), null);
});

test('roofline: the applicable peak and share; a rate above the probe is said to be no ceiling', (t) => {
  const peak = {
    runtime: 'onnxruntime-web',
    threads: 1,
    int8GmacPerS: 2,
    fp32GmacPerS: 14,
    graphs: { int8: 'QLinearConv', fp32: 'Conv' },
    op: 'CONV_2D 1x1 28x28x256->256',
    method: 'best of calls',
  } as unknown as PeakProbe;
  const int8 = roofline(50e6, 20, 'int8', peak);
  t.is(int8.achievedGmacPerS, 2.5);
  t.is(int8.peakGmacPerS, 2);
  t.is(int8.fractionOfPeak, 1.25);
  t.is(int8.probe.graph, 'QLinearConv');
  t.regex(rooflineVerdict(int8), /^125% of the int8 probe 2\.0 GMAC\/s: faster than the probe conv/);
  const fp32 = roofline(50e6, 10, 'fp32', peak);
  t.is(fp32.fractionOfPeak, 5 / 14);
  t.is(rooflineVerdict(fp32), '36% of the fp32 probe 14.0 GMAC/s');
});
