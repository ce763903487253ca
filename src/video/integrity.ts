/**
 * ffmpeg exits 0 on a truncated or damaged file and simply stops early, so the
 * only evidence is what it logs and how many frames came out. FfmpegLog reads
 * a `-v level+info` log as it streams in; `damage()` weighs it.
 */

const LEVELED = /^(?:\[[^\]]*\] )*?\[(panic|fatal|error|warning|info|verbose|debug|trace)\] ?(.*)$/;
const DURATION = /^\s*Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/;
/**
 * The demuxer read fewer bytes than the file's own structure promised: mov's
 * 'partial file', matroska's 'File ended prematurely', and a packet flagged
 * corrupt (av_get_packet came up short), as the demuxer and ffmpeg report it.
 */
const SHORT_READ = /partial file|ended prematurely|packet corrupt|corrupt input packet/i;
const FAILING = new Set(['panic', 'fatal', 'error']);

export class FfmpegLog {
  /** The input's duration from ffmpeg's input banner (the container's; undefined for N/A). */
  durationS: number | undefined;
  /** The gif demuxer read the input. */
  gif = false;
  errorCount = 0;
  firstError: string | undefined;
  lastError: string | undefined;
  shortRead: string | undefined;
  private shortReadIsError = false;
  private rest = '';

  push(chunk: string): void {
    const lines = (this.rest + chunk).split(/\r\n|\r|\n/);
    this.rest = lines.pop() ?? '';
    for (const l of lines) this.line(l);
  }

  end(): void {
    if (this.rest) this.line(this.rest);
    this.rest = '';
  }

  private line(raw: string): void {
    const m = LEVELED.exec(raw.trimEnd());
    const level = m?.[1] ?? 'info';
    const text = (m?.[2] ?? raw).trim().replace(/\.$/, '');
    if (!text) return;
    if (FAILING.has(level)) {
      this.errorCount++;
      this.firstError ??= text;
      this.lastError = text;
    }
    // The demuxer's error names the cut better than the packet warnings that echo it.
    if (FAILING.has(level) && SHORT_READ.test(text) && !this.shortReadIsError) {
      this.shortRead = text;
      this.shortReadIsError = true;
    } else if (level === 'warning' && SHORT_READ.test(text)) this.shortRead ??= text;
    if (level !== 'info') return;
    if (text.startsWith('Input #0, gif, from ')) this.gif = true;
    const d = this.durationS === undefined ? DURATION.exec(text) : null;
    if (d) this.durationS = Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]);
  }

  /** Why ffmpeg failed (exit code not 0): the first cause, and the last line when it differs. */
  failure(): string | undefined {
    const { firstError: first, lastError: last } = this;
    return first && last && first !== last ? `${first}; ${last}` : last;
  }
}

export interface DecodeEvidence {
  frames: number;
  fps: number;
  log: FfmpegLog;
  /** The container's duration from the banner, or the video stream's when a short count is re-checked. */
  durationS: number | undefined;
  /** A GIF whose last byte is not the trailer (0x3B). */
  gifUnterminated?: boolean;
}

/**
 * Why a decode that ffmpeg finished with exit 0 lost part of the video, or
 * undefined for an intact one. Expected frames E = round(D × fps): on intact
 * clips the fps filter gives exactly that. Damaged when
 *  - the demuxer came up short of the file's own structure (SHORT_READ): the
 *    bytes are gone whatever the count, and an AVI without its index measures
 *    its duration from what is left, so only this line shows the cut;
 *  - fewer than 90% of E and more than one frame short: the 10% absorb a
 *    container duration slightly off the video's, the one frame absorbs the
 *    banner's rounding to centiseconds on clips too short for 10% to cover;
 *  - decoder errors and more than one frame short: errors with a whole count
 *    are tolerated (an h264 stream cut between keyframes logs errors for the
 *    first frames and conceals them);
 *  - the duration is unknown and ffmpeg logged errors: nothing shows the loss
 *    was harmless;
 *  - a GIF without its trailer: the gif demuxer measures the duration from the
 *    bytes present and logs nothing, so a cut GIF looks like a shorter one.
 * Warnings (e.g. swscaler's 'deprecated pixel format used') never count.
 */
export function damage(e: DecodeEvidence): string | undefined {
  const { frames, log } = e;
  const quote = log.shortRead ?? log.firstError;
  const ffmpegSays = quote ? ` (ffmpeg: ${quote})` : '';
  if (e.gifUnterminated) return `the GIF ends without its trailer after ${frames} frames`;
  if (e.durationS === undefined) {
    if (log.shortRead) return `the file ends early after ${frames} frames${ffmpegSays}`;
    return log.errorCount ? `ffmpeg logged decode errors after ${frames} frames${ffmpegSays}` : undefined;
  }
  const expected = Math.round(e.durationS * e.fps);
  const short = frames < expected - 1;
  if (short && (frames < 0.9 * expected || log.errorCount > 0 || log.shortRead))
    return `decoded ${frames} of ~${expected} expected frames${ffmpegSays}`;
  if (log.shortRead) return `the file ends early, after ${frames} of ~${expected} expected frames${ffmpegSays}`;
  return undefined;
}

/** Whether a verdict rests on the duration, so the video stream's own duration could overturn it. */
export function durationBased(e: DecodeEvidence): boolean {
  return !e.gifUnterminated && !e.log.shortRead;
}
