import test from 'ava';
import { runClip } from '../src/accuracy/clip.js';
import { argmax, softmax } from '../src/metrics/probabilities.js';
import { checkThreads, getBackend } from '../src/backends/index.js';
import { stateCodes } from '../src/convert/int8-states.js';
import { className, resolveModel } from '../src/models/resolve.js';
import { collect } from '../src/video/frames.js';
import { decodeFrames } from '../src/video/decode.js';
import { ARM_WRESTLING, clip, CUSTOM_MODEL, shortClip } from './helpers.js';

const a0 = resolveModel('a0');
/** The first seconds of four real clips: the runtimes are compared after every clip's last frame. */
const CLIPS = [
  shortClip('arm_wrestling__mmaction2-demo.mp4', 4),
  shortClip('cleaning_pool__mmaction2-test.mp4', 4),
  shortClip('tai_chi__mmskeleton-ta_chi.mp4', 4),
  clip('windsurfing__video-segmentation-surf.mp4'),
];

/** Both WASM runtimes run XNNPACK's int8 kernels on the same model; the logits agree to this absolute tolerance. */
const LOGIT_TOLERANCE = 0.5;

test('A0 on tfjs-tflite classifies the arm-wrestling clip as arm wrestling', async (t) => {
  const session = await getBackend('tfjs-tflite').load(a0, { threads: 1 });
  try {
    const run = await runClip(session, a0, ARM_WRESTLING, { resize: 'crop', fps: 5 });
    t.is(run.frames, 50); // 10 s at 5 fps
    t.is(run.logits.length, 600);
    const probs = softmax(run.logits);
    t.is(className(a0, argmax(probs)), 'arm wrestling');
    t.true(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-4);
  } finally {
    session.dispose();
  }
});

test('tfjs-tflite and litert agree on clip-level top-1 and logits on four real clips', async (t) => {
  const [tf, lr] = await Promise.all([
    getBackend('tfjs-tflite').load(a0, { threads: 1 }),
    getBackend('litert').load(a0, { threads: 1 }),
  ]);
  try {
    for (const file of CLIPS) {
      const x = await runClip(tf, a0, file, { resize: 'crop', fps: 5 });
      const y = await runClip(lr, a0, file, { resize: 'crop', fps: 5 });
      t.is(argmax(x.logits), argmax(y.logits), file);
      const maxDiff = Math.max(...Array.from(x.logits, (v, i) => Math.abs(v - y.logits[i]!)));
      t.true(maxDiff < LOGIT_TOLERANCE, `${file}: max |logit diff| ${maxDiff}`);
    }
  } finally {
    tf.dispose();
    lr.dispose();
  }
});

test('carrying states changes the logits versus resetting them every frame', async (t) => {
  const session = await getBackend('tfjs-tflite').load(a0, { threads: 1 });
  try {
    const frames = await collect(decodeFrames(ARM_WRESTLING, { size: 172, fps: 5, resize: 'crop', maxFrames: 8 }));
    let state = session.initialState();
    let carried: Float32Array = new Float32Array();
    for (const f of frames) ({ logits: carried, state } = await session.step(f, state));
    const values = session.readState(state);
    session.release(state);
    let reset: Float32Array = new Float32Array();
    for (const f of frames) {
      const out = await session.step(f, session.initialState());
      reset = out.logits;
      session.release(out.state);
    }
    const diff = Math.max(...Array.from(carried, (v, i) => Math.abs(v - reset[i]!)));
    t.true(diff > 1, `carried vs reset max |logit diff| = ${diff}`);
    // The stream buffers really hold something after 8 frames.
    const buffer = values.get('state_block1_layer0_stream_buffer')!;
    t.true(buffer.some((v) => v !== 0));
  } finally {
    session.dispose();
  }
});

test('a state read out of one backend continues the stream on the other', async (t) => {
  const [tf, lr] = await Promise.all([
    getBackend('tfjs-tflite').load(a0, { threads: 1 }),
    getBackend('litert').load(a0, { threads: 1 }),
  ]);
  try {
    const frames = await collect(decodeFrames(ARM_WRESTLING, { size: 172, fps: 5, resize: 'crop', maxFrames: 6 }));
    let s = tf.initialState();
    for (const f of frames.slice(0, 5)) s = (await tf.step(f, s)).state;
    const handoff = tf.readState(s);
    const a = await tf.step(frames[5]!, s);
    const b = await lr.step(frames[5]!, lr.stateFrom(handoff));
    t.is(argmax(a.logits), argmax(b.logits));
    tf.release(a.state);
    lr.release(b.state);
  } finally {
    tf.dispose();
    lr.dispose();
  }
});

test('a stepped state cannot be stepped again', async (t) => {
  const session = await getBackend('litert').load(a0, { threads: 1 });
  try {
    const s = session.initialState();
    const frame = new Float32Array(172 * 172 * 3);
    const out = await session.step(frame, s);
    await t.throwsAsync(() => session.step(frame, s), { message: /single-use/ });
    session.release(out.state);
  } finally {
    session.dispose();
  }
});

test('a third-party fine-tuned A0 given by path runs on both backends (7 classes, other tensor names)', async (t) => {
  const custom = resolveModel(CUSTOM_MODEL);
  t.is(custom.signature.numClasses, 7);
  t.is(custom.signature.key, 'call');
  t.is(custom.labels, undefined);
  for (const name of ['tfjs-tflite', 'litert']) {
    const session = await getBackend(name).load(custom, { threads: 1 });
    const run = await runClip(session, custom, CLIPS[0]!, { resize: 'crop', fps: 5 });
    session.dispose();
    t.is(run.logits.length, 7);
    t.true(run.logits.every(Number.isFinite));
    t.is(className(custom, argmax(run.logits)).startsWith('class_'), true);
  }
});

test('onnxruntime-web runs the converted graphs in Node: exact graph bit-equal to tfjs-tflite, QDQ graph same top-1', async (t) => {
  const frames = await collect(decodeFrames(ARM_WRESTLING, { size: 172, fps: 5, resize: 'crop', maxFrames: 12 }));
  const logitsOf = async (name: string) => {
    const session = await getBackend(name).load(a0, { threads: 1 });
    try {
      t.is(session.threads.requested, 1);
      let state = session.initialState();
      const all: Float32Array[] = [];
      for (const f of frames) {
        const out = await session.step(f, state);
        all.push(out.logits);
        state = out.state;
      }
      session.release(state);
      return { all, build: session.runtime.build, pkg: session.runtime.package };
    } finally {
      session.dispose();
    }
  };
  const ref = await logitsOf('tfjs-tflite');
  const exact = await logitsOf('onnxruntime-web-exact');
  const qdq = await logitsOf('onnxruntime-web');
  t.is(exact.pkg, 'onnxruntime-web');
  t.regex(
    qdq.build,
    /^ort-wasm-simd-threaded\.wasm \(no worker threads\), WASM EP, converted by movinet-bench to int8 QDQ/,
  );
  // Every frame of each, a logit per class, so that the frame-by-frame equality below covers them all.
  t.is(frames.length, 12);
  t.deepEqual(
    [ref, exact, qdq].map((x) => x.all.map((l) => l.length)),
    [Array<number>(12).fill(600), Array<number>(12).fill(600), Array<number>(12).fill(600)],
  );
  exact.all.forEach((l, i) => t.deepEqual(Array.from(l), Array.from(ref.all[i]!), `frame ${i}`));
  t.is(argmax(qdq.all.at(-1)!), argmax(ref.all.at(-1)!));
  t.throws(() => checkThreads(getBackend('onnxruntime-web'), 2), { message: /at most 1 thread in Node/ });
});

test('onnxruntime carries the stream buffers as uint8 codes: its states read out equal tfjs-tflite`s, and hand over both ways', async (t) => {
  const [tf, ort] = await Promise.all([
    getBackend('tfjs-tflite').load(a0, { threads: 1 }),
    getBackend('onnxruntime').load(a0, { threads: 1 }),
  ]);
  try {
    t.is(stateCodes('int8', a0.graph, a0.signature).size, 11);
    const frames = await collect(decodeFrames(ARM_WRESTLING, { size: 172, fps: 5, resize: 'crop', maxFrames: 7 }));
    let [a, b] = [tf.initialState(), ort.initialState()];
    for (const f of frames.slice(0, 5)) [a, b] = [(await tf.step(f, a)).state, (await ort.step(f, b)).state];
    const [sa, sb] = [tf.readState(a), ort.readState(b)];
    // Every state of the model, under the same names on both.
    t.is(sa.size, a0.signature.states.length);
    t.deepEqual([...sb.keys()].sort(), [...sa.keys()].sort());
    for (const [name, v] of sa) t.deepEqual(Array.from(sb.get(name)!), Array.from(v), name);
    // tfjs-tflite's states continue on onnxruntime and back, with the logits of either stream.
    const x = await tf.step(frames[5]!, a);
    const y = await ort.step(frames[5]!, ort.stateFrom(sa));
    t.deepEqual(Array.from(y.logits), Array.from(x.logits));
    const w = await tf.step(frames[6]!, x.state);
    const z = await tf.step(frames[6]!, tf.stateFrom(ort.readState(y.state)));
    t.deepEqual(Array.from(z.logits), Array.from(w.logits));
    ort.release(y.state);
    tf.release(z.state);
  } finally {
    tf.dispose();
    ort.dispose();
  }
});
