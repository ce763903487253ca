/**
 * Where a backend parts from tfjs-tflite on one clip, without a dataset or a
 * report: what `parity --locate` says for each mismatching clip (the first
 * frame, the states that drift, the first tensor that differs). Usage, after
 * `npm run build`:
 *   node dist/scripts/locate-exact.js [model id|.tflite] [clip] [--backend onnxruntime-exact] [--frames 50]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { getBackend } from '../src/backends/index.js';
import { resolveModel } from '../src/models/resolve.js';
import { locateClip } from '../src/parity/locate.js';
import { dataDir } from '../src/util/paths.js';
import { decodeFrames } from '../src/video/decode.js';
import { collect } from '../src/video/frames.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    frames: { type: 'string', default: '50' },
    backend: { type: 'string', default: 'onnxruntime-exact' },
  },
});
const [modelRef = 'a0', clipRef = 'arm_wrestling__mmaction2-demo.mp4'] = positionals;
const model = resolveModel(modelRef);
const file = path.isAbsolute(clipRef) ? clipRef : path.join(dataDir(), 'datasets', 'kinetics-sample', clipRef);
const frames = await collect(
  decodeFrames(file, { size: model.signature.height, fps: 5, resize: 'crop', maxFrames: Number(values.frames) }),
);
const [reference, other] = [
  { name: 'tfjs-tflite', session: await getBackend('tfjs-tflite').load(model, { threads: 1 }) },
  { name: values.backend, session: await getBackend(values.backend).load(model, { threads: 1 }) },
];
const found = await locateClip(model, reference, other, frames);
console.log(JSON.stringify({ model: model.id, clip: path.basename(file), frames: frames.length, ...found }, null, 2));
reference.session.dispose();
other.session.dispose();
