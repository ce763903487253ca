import type { Environment, Failed, ParityPair, Skipped } from '../../core/results.js';
import { pairPasses } from '../../metrics/parity.js';
import { fmt, interval, pct } from '../format.js';
import { baselineComparisons, isRegression, regressionLine } from './baseline.js';
import type { ParityReport, Report } from '../schema.js';
import { esc, plural, type Html, type PageContext, type Section } from './page.js';

/** Title, the machine, and which reports the page was built from. */
export const headerSection: Section = (ctx) => {
  const envs = [...new Set(ctx.reports.map((r) => environmentLine(r.environment)))];
  const runs = ctx.reports.map((r) => `${ctx.runName(r)} (${reportFacts(ctx, r).join(', ')}): ${r.command}`);
  return `<header><h1>movinet-bench report</h1>
${environmentsNote(envs)}
${reportsList(runs)}</header>`;
};

function environmentLine(e: Environment): string {
  const machine = `${e.cpuModel}, ${e.cpuCores} cores, ${e.totalMemGB} GB, ${e.os}`;
  return `${machine}, Node ${e.node}, ffmpeg ${e.ffmpeg}, commit ${e.gitCommit ?? 'unknown'}`;
}

/** The environment the reports ran in, or every one of them, called out, when they differ. */
function environmentsNote(envs: readonly string[]): Html {
  if (envs.length === 0) return '';
  if (envs.length === 1) return `<p class="note">${esc(envs[0]!)}</p>`;
  return `<p class="note"><b>${envs.length} different environments</b>: ${envs.map(esc).join(' | ')}</p>`;
}

function reportsList(runs: readonly string[]): Html {
  if (runs.length === 0) return '';
  const items = runs.map((l) => `<li><code>${esc(l)}</code></li>`).join('');
  return `<details><summary>${esc(plural(runs.length, 'report'))}</summary><ul>${items}</ul></details>`;
}

/** What the list of reports says of each: its kind, its machine when the page holds several, when it was made. */
function reportFacts(ctx: PageContext, r: Report): string[] {
  return [r.kind, ...(ctx.machines.length > 1 ? [ctx.machineOf(r)] : []), r.createdAt];
}

/** A parity pair named as a result of its report: "backend vs reference", and the report's machine when several. */
const parityName = (ctx: PageContext, p: ParityReport, pair: ParityPair): string =>
  ctx.nameOf({ backend: `${pair.backend} vs ${pair.reference}`, machine: ctx.machineOf(p) });

interface Verdict {
  problems: string[];
  notes: string[];
  passed: string[];
}

function verdict(ctx: PageContext): Verdict {
  const v: Verdict = { problems: [], notes: [], passed: [] };
  const failed = ctx.reports.reduce((n, r) => n + r.failed.length, 0);
  const skipped = ctx.reports.reduce((n, r) => n + r.skipped.length, 0);
  if (failed) v.problems.push(`${plural(failed, 'pair')} failed to run`);
  if (skipped) v.notes.push(`${plural(skipped, 'pair')} skipped`);

  const clipErrors = ctx.accuracy.reduce((n, r) => n + r.runs.reduce((m, x) => m + x.summary.errors, 0), 0);
  if (clipErrors) v.problems.push(`${plural(clipErrors, 'clip')} could not be evaluated`);

  for (const p of ctx.parity) {
    const bad = p.pairs.filter((x) => !pairPasses(x, p.config.minAgreement));
    if (!p.passed)
      v.problems.push(
        `parity failed${bad.length ? `: ${bad.map((x) => `${x.model.id} ${parityName(ctx, p, x)}`).join(', ')}` : ''}`,
      );
    else v.passed.push(`parity passed (${plural(p.pairs.length, 'pair')})`);
  }

  const comps = baselineComparisons(ctx);
  if (ctx.baseline) {
    const rows = comps.flatMap((c) => c.comparison.rows);
    const regressions = rows.filter(isRegression).length;
    const inconclusive = rows.filter((r) => r.verdict === 'inconclusive').length;
    const mismatches = comps.reduce((n, c) => n + c.comparison.mismatches.length, 0);
    if (comps.length === 0) v.notes.push(`the baseline is a ${ctx.baseline.kind} report and none was given to compare`);
    else if (regressions) v.problems.push(`${plural(regressions, 'regression')} against the baseline`);
    else v.passed.push('no regression against the baseline');
    if (inconclusive) v.notes.push(`${plural(inconclusive, 'comparison')} inconclusive (too few processes to test)`);
    if (mismatches) v.notes.push(`${plural(mismatches, 'setting')} differ from the baseline`);
  }

  const warnings = ctx.benchEntries.reduce((n, e) => n + e.result.warnings.length, 0);
  if (warnings) v.notes.push(`${plural(warnings, 'measurement warning')} (see the latency tables)`);
  if (ctx.benchEntries.length) v.passed.unshift(`${plural(ctx.benchEntries.length, 'bench result')}`);
  const runs = ctx.accuracy.reduce((n, r) => n + r.runs.length, 0);
  if (runs) v.passed.push(`${plural(runs, 'accuracy run')}`);
  return v;
}

function verdictBlock(ctx: PageContext): Html {
  const v = verdict(ctx);
  const ok = v.problems.length === 0;
  const head = ok
    ? `<b class="good">✓ Nothing failed</b>: ${esc(v.passed.join(' · '))}`
    : `<b class="bad">✗ Needs attention</b>: ${esc(v.problems.join(' · '))}`;
  const notes = [...(ok ? [] : v.passed), ...v.notes];
  const noteList = notes.length ? `<ul>${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  return `<div class="verdict ${ok ? 'ok' : 'bad'}" role="status">${head}${noteList}</div>`;
}

/**
 * A pair that did not run, named like a result: skipped and failed entries record no machine, so the report's
 * (of a merged report, every machine it holds: the pair was measured on none of them).
 */
function notRunItem(ctx: PageContext, r: Report, x: Skipped | Failed): string {
  const why = 'cause' in x ? `skipped, ${x.cause}` : 'failed';
  return `${ctx.nameOf({ backend: x.backend, machine: ctx.machineOf(r) })} (${why})`;
}

const list = (items: readonly Html[]): Html =>
  items.length === 1 ? items[0]! : `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>`;

/** The source page's top-1 beside ours: it is of the full validation set, not of our clips. */
function sourceTop1Note(ref: number | null | undefined): string {
  if (ref === null || ref === undefined) return '';
  return `; the source page's ${esc(ref)}% is on the full validation set`;
}

function parityItem(pair: ParityPair, name: string, ok: boolean): Html {
  const verdict = `<b class="${ok ? 'good' : 'bad'}">${ok ? 'passed' : 'FAILED'}</b>`;
  const matched = `${pair.clipsMatching}/${pair.clips.length} clips, ${pct(pair.frameTop1Agreement, 2)} of frames`;
  return `${verdict} ${esc(name)}: ${esc(matched)}`;
}

function modelCard(ctx: PageContext, model: string): Html {
  const rows: [string, Html][] = [];
  const notRun = ctx.reports.flatMap((r) =>
    [...r.skipped, ...r.failed].filter((x) => x.model === model).map((x) => notRunItem(ctx, r, x)),
  );
  const entries = ctx.benchEntries
    .filter((e) => e.result.model.id === model)
    .sort((a, b) => a.result.stats.p50 - b.result.stats.p50);
  const fastest = entries[0];
  if (fastest) {
    const r = fastest.result;
    const others = entries
      .slice(1)
      .map((e) => `${e.label} ${fmt(e.result.stats.p50)}`)
      .join(', ');
    const latency = `p50 <b>${esc(fmt(r.stats.p50))} ms</b>, p90 ${esc(fmt(r.stats.p90))} ms`;
    const othersNote = others ? `<br><span class="note">p50 of the others (ms): ${esc(others)}</span>` : '';
    const realtime = `${esc(fmt(r.realtimeFactor, 1))}× real time`;
    rows.push(['fastest', `<b>${esc(fastest.label)}</b>: ${latency}, ${realtime}${othersNote}`]);
  } else if (notRun.length === 0) rows.push(['fastest', '<span class="note">no bench result</span>']);

  const runs = ctx.accuracy.flatMap((a) => a.runs.filter((x) => x.model.id === model).map((run) => ({ a, run })));
  if (runs.length) {
    const sorted = [...runs].sort((x, y) => y.run.summary.top1.value - x.run.summary.top1.value);
    const sets = [...new Set(runs.map(({ a, run }) => `${run.summary.evaluated} clips of ${a.config.dataset.name}`))];
    const ref = runs[0]!.run.model.reference?.top1;
    rows.push([
      'top-1',
      list(
        sorted.map(
          ({ a, run }) => `${esc(ctx.accuracyName(a, run.backend))}: <b>${esc(interval(run.summary.top1))}</b>`,
        ),
      ) + `<span class="note">on ${esc(sets.join(', '))} (95% interval)${sourceTop1Note(ref)}</span>`,
    ]);
  }

  const pairs = ctx.parity.flatMap((p) =>
    p.pairs
      .filter((x) => x.model.id === model)
      .map((pair) => ({ pair, name: parityName(ctx, p, pair), ok: pairPasses(pair, p.config.minAgreement) })),
  );
  if (pairs.length) rows.push(['parity', list(pairs.map(({ pair, name, ok }) => parityItem(pair, name, ok)))]);

  if (ctx.baseline) {
    const rowsOf = baselineComparisons(ctx).flatMap((c) =>
      c.comparison.rows.filter((r) => r.model === model).map((r) => ({ ...r, report: c.report })),
    );
    if (rowsOf.length) {
      const count = (v: string) => rowsOf.filter((r) => r.verdict === v).length;
      const regressions = rowsOf.filter(isRegression);
      const counts = [
        `<b class="${regressions.length ? 'bad' : 'good'}">${esc(plural(regressions.length, 'regression'))}</b>`,
        esc(plural(count('improvement'), 'improvement')),
        esc(`${count('inconclusive')} inconclusive`),
        esc(`${count('unchanged')} unchanged`),
      ].join(', ');
      rows.push([
        'vs baseline',
        counts + (regressions.length ? list(regressions.map((r) => esc(regressionLine(r, ctx, r.report)))) : ''),
      ]);
    }
  }

  if (notRun.length) rows.push(['not run', `${esc(plural(notRun.length, 'pair'))}: ${esc(notRun.join(', '))}`]);

  const info = [
    ...ctx.benchEntries.map((e) => e.result.model),
    ...ctx.accuracy.flatMap((a) => a.runs.map((r) => r.model)),
  ].find((m) => m.id === model);
  const sub = info
    ? [info.precision, `${info.resolution} px`, `${info.numClasses} classes`].filter(Boolean).join(' · ')
    : '';
  const note = info?.note ? `<p class="warn">${esc(info.note)}</p>` : '';
  const subtitle = sub ? ` <span class="note">${esc(sub)}</span>` : '';
  const facts = rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('');
  return `<div class="card"><h3>${esc(model)}${subtitle}</h3>${note}<dl>${facts}</dl></div>`;
}

/** The verdict, then per model the fastest backend, accuracy, parity and the change against the baseline. */
export const summarySection: Section = (ctx) => {
  if (ctx.reports.length === 0) return '<p>No report given.</p>';
  const cards = ctx.models.map((m) => modelCard(ctx, m)).join('\n');
  return `<section id="summary">${verdictBlock(ctx)}<div class="cards">${cards}</div></section>`;
};
