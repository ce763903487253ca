import test from 'ava';
import { getBackend } from '../src/backends/index.js';
import type { Session } from '../src/backends/backend.js';
import { tfliteHardSwish, tfliteLogistic } from '../src/convert/int8-kernels.js';
import { roundHalfEven, xnnAddParams } from '../src/convert/ops.js';
import { resolveModel, type ResolvedModel } from '../src/models/resolve.js';
import { decodeFrames } from '../src/video/decode.js';
import { collect } from '../src/video/frames.js';
import { ARM_WRESTLING, clip, CUSTOM_MODEL } from './helpers.js';

/**
 * Steps both sessions over the frames: the first frame (and what) where the logits or a state are not
 * bit-identical (in length, names or values), else how many frames were compared.
 */
async function firstDifference(a: Session, b: Session, frames: Float32Array[]): Promise<string | number> {
  let [sa, sb] = [a.initialState(), b.initialState()];
  const sorted = (m: ReadonlyMap<string, unknown>) => [...m.keys()].sort().join(',');
  try {
    for (const [f, frame] of frames.entries()) {
      const [ra, rb] = [await a.step(frame, sa), await b.step(frame, sb)];
      [sa, sb] = [ra.state, rb.state];
      if (ra.logits.length === 0 || ra.logits.length !== rb.logits.length)
        return `frame ${f}: ${ra.logits.length} vs ${rb.logits.length} logits`;
      if (ra.logits.some((v, k) => v !== rb.logits[k])) return `frame ${f}: logits`;
      const [xa, xb] = [a.readState(sa), b.readState(sb)];
      if (xa.size === 0 || sorted(xa) !== sorted(xb)) return `frame ${f}: states ${sorted(xa)} vs ${sorted(xb)}`;
      for (const [name, v] of xa) {
        const w = xb.get(name)!;
        if (v.length !== w.length || v.some((x, k) => x !== w[k])) return `frame ${f}: state ${name}`;
      }
    }
    return frames.length;
  } finally {
    a.release(sa);
    b.release(sb);
  }
}

async function exactOver(model: ResolvedModel, file: string, maxFrames: number): Promise<string | number> {
  const frames = await collect(decodeFrames(file, { size: model.signature.height, fps: 5, resize: 'crop', maxFrames }));
  const [tf, ex] = [
    await getBackend('tfjs-tflite').load(model, { threads: 1 }),
    await getBackend('onnxruntime-exact').load(model, { threads: 1 }),
  ];
  try {
    return await firstDifference(tf, ex, frames);
  } finally {
    tf.dispose();
    ex.dispose();
  }
}

test('official A0: int8-exact reproduces tfjs-tflite logits and every state, frame after frame', async (t) => {
  t.is(await exactOver(resolveModel('a0'), ARM_WRESTLING, 50), 50);
});

test('fine-tuned A0 (HARD_SWISH, MEAN, cumulative pooling, a SUM that wraps): the same, logits and states', async (t) => {
  const model = resolveModel(CUSTOM_MODEL);
  t.is(await exactOver(model, ARM_WRESTLING, 50), 50);
  // Its head SUM overflows int8 on this clip after about fifty frames: TFLite wraps, a clamp would part.
  t.is(await exactOver(model, clip('hammer_throw__mmskeleton-hammer_throw_w.gif'), 60), 60);
});

test("XNNPACK's int8 ADD multipliers: 21 bits for the larger ratio, one shift for both", (t) => {
  t.deepEqual(xnnAddParams(0.5, 0.5), { a: 2 ** 20, b: 2 ** 20, shift: 21 });
  const p = xnnAddParams(Math.fround(0.7), Math.fround(0.3));
  t.is(p.shift, 21);
  t.true(p.a >= 2 ** 20 && p.a < 2 ** 21);
  t.is(p.b, roundHalfEven(Math.fround(0.3) * 2 ** 21));
  t.deepEqual([roundHalfEven(2.5), roundHalfEven(3.5), roundHalfEven(-2.5), roundHalfEven(-0.4)], [2, 4, -2, -0]);
});

test("TFLite's int8 HARD_SWISH and LOGISTIC tables stay within one code of the real functions", (t) => {
  const [inScale, inZp, outScale, outZp] = [0.05, -10, 0.03, -100];
  const hs = tfliteHardSwish(inScale, inZp, outScale, outZp);
  const sig = tfliteLogistic(inScale, inZp, 1 / 256, -128);
  for (let q = -128; q <= 127; q++) {
    const x = inScale * (q - inZp);
    const hsReal = (x * Math.min(Math.max(x + 3, 0), 6)) / 6;
    const expected = Math.min(127, Math.max(-128, Math.round(hsReal / outScale) + outZp));
    t.true(Math.abs(hs(q) - expected) <= 1, `hard swish at code ${q}: ${hs(q)} vs ${expected}`);
    const s = Math.min(127, Math.round(256 / (1 + Math.exp(-x))) - 128);
    t.true(Math.abs(sig(q) - s) <= 1, `logistic at code ${q}: ${sig(q)} vs ${s}`);
  }
});
