import type { Command } from 'commander';
import type { ResizeMode } from '../core/results.js';
import { pct } from '../report/format.js';
import { classifyVideo, type Classification } from '../run/classify.js';
import { emit } from './emit.js';
import { intParser, parseResize, positiveParser } from './options.js';

interface ClassifyFlags {
  model: string;
  backend: string;
  top: number;
  every?: number;
  resize: ResizeMode;
  labels?: string;
  threads: number;
  json: boolean;
  cache: boolean;
}

function classificationText(c: Classification, file: string): string {
  const v = c.video;
  const video = `${v.width}x${v.height}, ${v.durationS.toFixed(1)} s`;
  const lines = [`${file}: ${c.frames} frames at ${c.fps} fps (${video}), ${c.model} on ${c.backend}`];
  for (const p of c.top) lines.push(`  ${p.label.padEnd(36)} ${pct(p.prob).padStart(6)}`);
  if (c.timeline.length) {
    lines.push('over time:');
    for (const t of c.timeline)
      lines.push(`  ${t.t.toFixed(1).padStart(5)} s  ${t.top.map((p) => `${p.label} ${pct(p.prob, 0)}`).join(', ')}`);
  }
  return lines.join('\n');
}

export function registerClassify(program: Command): void {
  program
    .command('classify <video>')
    .description('stream a clip and print the top-k actions (softmax of the final logits)')
    .option('--model <id|path>', 'model id or .tflite path', 'a0')
    .option('--backend <name>', 'runtime', 'tfjs-tflite')
    .option('--top <k>', 'how many classes to print', intParser('--top', 1, 600), 5)
    .option(
      '--every <seconds>',
      'also print the prediction over time, every N seconds of video',
      positiveParser('--every', 3600),
    )
    .option('--resize <mode>', 'crop (shorter side, center crop) or squash', parseResize, 'crop')
    .option('--labels <file>', 'label file for a model given by path (one class per line)')
    .option('--threads <n>', 'CPU threads', intParser('--threads', 1, 256), 1)
    .option('--no-cache', 'convert models afresh: neither read nor write the conversion cache')
    .option('--json', 'machine-readable output', false)
    .action(async (video: string, flags: ClassifyFlags) => {
      const result = await classifyVideo({ ...flags, video, every: flags.every ?? 0 });
      emit({ value: result, text: classificationText(result, video) }, flags.json);
    });
}
