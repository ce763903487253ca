import fs from 'node:fs';
import path from 'node:path';
import type { RuntimeInfo } from '../backends/backend.js';
import { ClipResultSchema, type ClipResult } from '../core/results.js';
import type { ResolvedModel } from '../models/resolve.js';
import { UserError } from '../util/errors.js';
import { sha256Bytes } from '../util/sha256.js';

/*
 * Per-clip results of an accuracy run, appended as each clip finishes, so a shard that is killed and
 * requeued continues where it stopped (`--resume`). One JSON object per line: a header with the run's
 * settings, then one line per (model, clip) with every backend's result. A line is written whole and
 * flushed to disk before the next clip starts; a line cut short by a kill is discarded on resume.
 */

/** The settings a resumed run must share with the journal it continues. */
export interface JournalSettings {
  dataset: string;
  resize: string;
  fps: number;
  shard: { index: number; count: number } | null;
  /**
   * `--batch`, or null: a resumed run keeps it, so one report does not mix step times with shares of batched
   * calls (nor, on a float graph, results a batch may round differently). A journal from before it read as null.
   */
  batch: number | null;
}

interface RuntimeId {
  package: string;
  version: string;
  build: string;
}

interface Line {
  model: { id: string; sha256: string; labels: string };
  file: string;
  runtimes: Record<string, RuntimeId>;
  results: Record<string, ClipResult>;
}

const FORMAT = 'movinet-bench accuracy journal 1';

const labelsHash = (m: ResolvedModel) => sha256Bytes(new TextEncoder().encode((m.labels ?? []).join('\n')));
const runtimeId = (r: RuntimeInfo): RuntimeId => ({ package: r.package, version: r.version, build: r.build });
const runtimeText = (r: RuntimeId) => `${r.package} ${r.version} (${r.build})`;

export class Journal {
  private readonly lines = new Map<string, Line>();
  /** Clips taken from the journal instead of run, for the log. */
  resumed = 0;

  private constructor(
    readonly file: string,
    private readonly fd: number,
  ) {}

  /** A fresh journal, or with `resume` the one already there (refused if its settings differ). */
  static open(file: string, settings: JournalSettings, resume: boolean): Journal {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const header = JSON.stringify({ format: FORMAT, settings });
    if (resume && fs.existsSync(file)) {
      const { lines, goodBytes } = Journal.read(file, settings);
      fs.truncateSync(file, goodBytes);
      const journal = new Journal(file, fs.openSync(file, 'a'));
      for (const l of lines) journal.lines.set(key(l.model.id, l.file), l);
      return journal;
    }
    fs.writeFileSync(file, `${header}\n`);
    return new Journal(file, fs.openSync(file, 'a'));
  }

  /** The complete lines, and the bytes they take (a torn last line is not counted, so appends start after it). */
  private static read(file: string, settings: JournalSettings): { lines: Line[]; goodBytes: number } {
    const text = fs.readFileSync(file, 'utf8');
    // The piece after the last newline is empty, or a line a kill cut short: either way not a line.
    const complete = text.split('\n').slice(0, -1);
    const headerLine = complete[0];
    const header =
      headerLine === undefined ? undefined : (safeParse(headerLine) as { format?: string; settings?: JournalSettings });
    if (!header || header.format !== FORMAT || !header.settings)
      throw new UserError(`--resume: ${file} is not a movinet-bench accuracy journal`);
    for (const k of ['dataset', 'resize', 'fps', 'shard', 'batch'] as const) {
      const [was, now] = [JSON.stringify(header.settings[k] ?? null), JSON.stringify(settings[k])];
      if (was !== now) throw new UserError(`--resume: ${file} was written with ${k} ${was}, this run has ${now}`);
    }
    const lines: Line[] = [];
    let goodBytes = Buffer.byteLength(`${headerLine}\n`);
    for (const l of complete.slice(1)) {
      const parsed = safeParse(l) as Line | undefined;
      const valid =
        parsed?.model &&
        typeof parsed.file === 'string' &&
        parsed.results &&
        parsed.runtimes &&
        Object.values(parsed.results).every((r) => ClipResultSchema.safeParse(r).success);
      // Only the last line can be torn (appends are whole and flushed); anything after a bad line is dropped too.
      if (!valid) break;
      lines.push(parsed);
      goodBytes += Buffer.byteLength(`${l}\n`);
    }
    return { lines, goodBytes };
  }

  /** A model's labels as the journal keeps them (a hash), computed once per model, not per clip. */
  private readonly labelHashes = new Map<string, string>();
  private labelsOf(model: ResolvedModel): string {
    let h = this.labelHashes.get(model.id);
    if (h === undefined) this.labelHashes.set(model.id, (h = labelsHash(model)));
    return h;
  }

  /** Refuses to continue a journal written with another model file, labels or runtime build. */
  checkRuntime(model: ResolvedModel, backend: string, runtime: RuntimeInfo): void {
    const now = runtimeId(runtime);
    const labels = this.labelsOf(model);
    for (const l of this.lines.values()) {
      if (l.model.id !== model.id) continue;
      if (l.model.sha256 !== model.sha256)
        throw new UserError(
          `--resume: ${this.file} has ${model.id} with sha256 ${l.model.sha256}, this run ${model.sha256}`,
        );
      if (l.model.labels !== labels) throw new UserError(`--resume: ${this.file} has ${model.id} with other labels`);
      const was = l.runtimes[backend];
      if (was && JSON.stringify(was) !== JSON.stringify(now))
        throw new UserError(
          `--resume: ${this.file} has ${backend} as ${runtimeText(was)}, this run ${runtimeText(now)}`,
        );
    }
  }

  /** The journaled results of this clip, when every one of `backends` has one. */
  done(model: ResolvedModel, file: string, backends: readonly string[]): Map<string, ClipResult> | null {
    const l = this.lines.get(key(model.id, file));
    if (!l || !backends.every((b) => l.results[b])) return null;
    this.resumed++;
    return new Map(backends.map((b) => [b, l.results[b]!]));
  }

  record(
    model: ResolvedModel,
    file: string,
    results: readonly { backend: string; runtime: RuntimeInfo; clip: ClipResult }[],
  ): void {
    const line: Line = {
      model: { id: model.id, sha256: model.sha256, labels: this.labelsOf(model) },
      file,
      runtimes: Object.fromEntries(results.map((r) => [r.backend, runtimeId(r.runtime)])),
      results: Object.fromEntries(results.map((r) => [r.backend, r.clip])),
    };
    fs.writeSync(this.fd, `${JSON.stringify(line)}\n`);
    fs.fsyncSync(this.fd);
    this.lines.set(key(model.id, file), line);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

const key = (model: string, file: string) => `${model}\u0000${file}`;

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
