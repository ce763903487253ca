import { pct } from '../format.js';
import { esc, plainTable, section, type Html, type PageContext, type Section } from './page.js';

/**
 * Native TFLite rows: which kernels ran. The delegate, the nodes it took and in how many
 * partitions, and the ops left on TFLite's built-in kernels with their share of the MACs.
 */
export const kernelsSection: Section = async (ctx: PageContext): Promise<Html | null> => {
  const entries = ctx.benchEntries.filter((e) => e.result.runtime.kernels);
  if (entries.length === 0) return null;
  const rows = entries.map((e) => {
    const k = e.result.runtime.kernels!;
    return [
      e.result.model.id,
      e.label,
      `TFLite ${k.tfliteVersion}`,
      k.delegate ? `${k.delegate} (${k.delegateFlags.join('+')})` : 'none',
      `${k.delegatedNodes} / ${k.nodes}`,
      String(k.partitions),
      k.builtinOps.map((o) => `${o.op}×${o.nodes}`).join(' '),
      pct(k.builtinMacShare),
    ];
  });
  const table = plainTable(
    [
      { header: 'model', text: true },
      { header: ctx.seriesTitle, text: true },
      { header: 'runtime', text: true },
      { header: 'delegate', text: true },
      { header: 'nodes delegated' },
      { header: 'partitions' },
      { header: 'left on built-in kernels', text: true, wrap: true },
      { header: 'MACs on built-in' },
    ],
    rows,
  );
  const libraries = [
    ...new Map(entries.map((e) => [e.result.runtime.kernels!.library.sha256, e.result.runtime.kernels!])).values(),
  ]
    .map((k) => `<li>${esc(`${k.library.platformBinary} from ${k.library.source}, sha256 ${k.library.sha256}`)}</li>`)
    .join('');
  const method = `<p class="note">${esc(entries[0]!.result.runtime.kernels!.method)}.</p>`;
  const files = `<details><summary>Library files</summary><ul>${libraries}</ul></details>`;
  return section('kernels', 'Which kernels ran (native TFLite)', `${table}${method}${files}`);
};
