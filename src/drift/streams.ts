import { clipName, type Dataset } from '../datasets/dataset.js';
import { UserError } from '../util/errors.js';
import { decodeFrames, type DecodeOptions } from '../video/decode.js';
import { collect } from '../video/frames.js';
import { checkVideoFile } from '../video/probe.js';

/** One long stream: clips chained end to end, cut at its length. */
export interface ChainedStream {
  clips: string[];
  frames: Float32Array[];
}

/**
 * Chains clips into long streams. Sample clips are a few seconds long, so a stream of one clip shows the states
 * filling up from zero and little else; a stream runs on through the next clips, its states carried across the
 * cut, as a camera's would across a change of scene. Stream s starts at clip s and takes the clips after it in
 * turn (cycling), so the streams differ and each clip starts one of them. Each clip is decoded once.
 */
export class StreamChainer {
  private readonly decoded = new Map<number, Float32Array[]>();

  constructor(
    private readonly ds: Dataset,
    private readonly decode: DecodeOptions,
  ) {}

  private async clipFrames(k: number): Promise<Float32Array[]> {
    const cached = this.decoded.get(k);
    if (cached) return cached;
    const clip = this.ds.clips[k]!;
    checkVideoFile(clip.file);
    const frames = await collect(decodeFrames(clip.file, this.decode));
    this.decoded.set(k, frames);
    return frames;
  }

  async stream(s: number, length: number): Promise<ChainedStream> {
    const n = this.ds.clips.length;
    if (n === 0) throw new UserError(`dataset ${this.ds.name} has no clips`);
    const out: ChainedStream = { clips: [], frames: [] };
    let empty = 0;
    for (let k = s; out.frames.length < length; k++) {
      const frames = await this.clipFrames(k % n);
      if (frames.length === 0) {
        if (++empty >= n) throw new UserError(`no clip of ${this.ds.name} gives a frame at ${this.decode.fps} fps`);
        continue;
      }
      empty = 0;
      out.clips.push(clipName(this.ds, this.ds.clips[k % n]!));
      out.frames.push(...frames.slice(0, length - out.frames.length));
    }
    return out;
  }
}
