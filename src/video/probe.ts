import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { UserError } from '../util/errors.js';
import { ffprobePath } from './ffmpeg.js';

export interface VideoInfo {
  file: string;
  bytes: number;
  container: string;
  codec: string;
  width: number;
  height: number;
  fps: number;
  durationS: number;
}

function rate(r: string | undefined): number {
  if (!r) return 0;
  const [n, d] = r.split('/').map(Number);
  return d ? n! / d : (n ?? 0);
}

interface ProbeJson {
  streams?: {
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    duration?: string;
  }[];
  format?: { format_name?: string; duration?: string };
}

/** The cheap checks, without starting ffprobe: exists, is a file, is not empty. Returns the size. */
export function checkVideoFile(file: string): number {
  if (!fs.existsSync(file)) throw new UserError(`video ${file} does not exist`);
  const st = fs.statSync(file);
  if (!st.isFile()) throw new UserError(`video ${file} is not a file`);
  if (st.size === 0) throw new UserError(`video ${file} is empty (0 bytes)`);
  return st.size;
}

/** Reads container facts for the report; fails with one line on a missing, empty or undecodable file. */
export function probeVideo(file: string): VideoInfo {
  const bytes = checkVideoFile(file);
  const r = spawnSync(ffprobePath(), ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file], {
    encoding: 'utf8',
  });
  const info = r.status === 0 ? (JSON.parse(r.stdout) as ProbeJson) : undefined;
  const v = info?.streams?.find((s) => s.codec_type === 'video');
  if (!info || !v) {
    const why = (r.stderr || 'no video stream').trim().split('\n').pop();
    throw new UserError(`cannot decode video ${file}: ${why}`);
  }
  const fps = rate(v.avg_frame_rate) || rate(v.r_frame_rate);
  return {
    file,
    bytes,
    container: info.format?.format_name ?? 'unknown',
    codec: v.codec_name ?? 'unknown',
    width: v.width ?? 0,
    height: v.height ?? 0,
    fps: Math.round(fps * 1000) / 1000,
    durationS: Number(info.format?.duration ?? v.duration ?? 0),
  };
}

/**
 * The video stream's own duration in seconds, or undefined when ffprobe is
 * missing or the stream has none (matroska). Asynchronous: the decode worker
 * asks only for a clip whose frame count looks short against the container's
 * duration, which also covers a longer audio track.
 */
export function videoStreamDuration(file: string): Promise<number | undefined> {
  let probe: string;
  try {
    probe = ffprobePath();
  } catch {
    return Promise.resolve(undefined);
  }
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=duration', '-of', 'csv=p=0', file];
  return new Promise((resolve) => {
    execFile(probe, args, { timeout: 30_000 }, (err, stdout) => {
      const d = Number(stdout.trim().split('\n')[0]);
      resolve(!err && d > 0 ? d : undefined);
    });
  });
}
