import type { Command } from 'commander';
import { checkThreads, getBackend } from '../backends/index.js';
import { runClip } from '../accuracy/clip.js';
import { softmax, topK } from '../accuracy/probabilities.js';
import { className, resolveModel } from '../models/resolve.js';
import { probeVideo } from '../video/probe.js';
import { intParser, parseResize } from './options.js';
import { printJson } from './output.js';

interface ClassifyFlags {
  model: string;
  backend: string;
  top: number;
  every?: number;
  resize: 'crop' | 'squash';
  labels?: string;
  threads: number;
  json: boolean;
}

export function registerClassify(program: Command): void {
  program
    .command('classify <video>')
    .description('stream a clip and print the top-k actions (softmax of the final logits)')
    .option('--model <id|path>', 'model id or .tflite path', 'a0')
    .option('--backend <name>', 'runtime', 'tfjs-tflite')
    .option('--top <k>', 'how many classes to print', intParser('--top', 1, 600), 5)
    .option('--every <seconds>', 'also print the prediction over time, every N seconds of video', (v: string) => {
      const n = Number(v);
      if (!(n > 0)) throw new Error(`--every must be a positive number of seconds, got '${v}'`);
      return n;
    })
    .option('--resize <mode>', 'crop (shorter side, center crop) or squash', parseResize, 'crop')
    .option('--labels <file>', 'label file for a model given by path (one class per line)')
    .option('--threads <n>', 'CPU threads', intParser('--threads', 1, 256), 1)
    .option('--json', 'machine-readable output', false)
    .action(async (video: string, flags: ClassifyFlags) => {
      const model = resolveModel(flags.model, { labelsFile: flags.labels });
      const backend = getBackend(flags.backend);
      checkThreads(backend, flags.threads);
      const info = probeVideo(video);
      const session = await backend.load(model, { threads: flags.threads });
      const timeline: { t: number; top: { label: string; prob: number }[] }[] = [];
      const framesPerTick = flags.every ? Math.max(1, Math.round(flags.every * model.fps)) : 0;
      const describe = (logits: Float32Array, k: number) => {
        const probs = softmax(logits);
        return topK(probs, k).map((i) => ({ index: i, label: className(model, i), prob: probs[i]! }));
      };
      try {
        const run = await runClip(session, model, video, {
          resize: flags.resize,
          fps: model.fps,
          onFrame: (i, logits) => {
            if (framesPerTick && (i + 1) % framesPerTick === 0) timeline.push({ t: (i + 1) / model.fps, top: describe(logits, Math.min(3, flags.top)) });
          },
        });
        const top = describe(run.logits, flags.top);
        if (flags.json) return printJson({ video: info, model: model.id, backend: backend.name, frames: run.frames, top, timeline });
        const lines = [`${video}: ${run.frames} frames at ${model.fps} fps (${info.width}x${info.height}, ${info.durationS.toFixed(1)} s), ${model.id} on ${backend.name}`];
        for (const p of top) lines.push(`  ${p.label.padEnd(36)} ${(p.prob * 100).toFixed(1).padStart(5)}%`);
        if (timeline.length) {
          lines.push('over time:');
          for (const t of timeline) lines.push(`  ${t.t.toFixed(1).padStart(5)} s  ${t.top.map((p) => `${p.label} ${(p.prob * 100).toFixed(0)}%`).join(', ')}`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        session.dispose();
      }
    });
}
