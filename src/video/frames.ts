import { syntheticFrames } from './synthetic.js';
import { decodeFrames, type FrameStream } from './decode.js';
import { probeVideo } from './probe.js';
import type { ResizeMode } from './ffmpeg.js';
import { UserError } from '../util/errors.js';

/**
 * Frames for a latency run, decoded before timing starts so decoding never
 * shares the clock with inference. A short clip is cycled: the stream state
 * keeps evolving, as it would on a longer video.
 */
export async function benchFrames(
  input: string,
  size: number,
  count: number,
  resize: ResizeMode = 'crop',
): Promise<Float32Array[]> {
  if (input === 'synthetic') return syntheticFrames(Math.min(count, 64), size);
  probeVideo(input);
  const frames = await collect(decodeFrames(input, { size, fps: 5, resize, maxFrames: count }));
  if (frames.length === 0) throw new UserError(`video ${input} is too short: it gives no frame at 5 fps`);
  return frames;
}

export async function collect(stream: FrameStream): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for await (const f of stream) out.push(f);
  return out;
}
