import { fmt, gmacs, rooflineVerdict } from '../format.js';
import { machineLabel } from '../machines.js';
import { esc, plainTable, section, type Html, type PageContext, type Section } from './page.js';

/**
 * How far each backend is from this CPU through the same runtime: the model's
 * MACs per frame over its p50 beside the rate a one-op probe (a large 1x1
 * convolution, same runtime and threads, after the timed runs) reached.
 */
export const rooflineSection: Section = async (ctx: PageContext): Promise<Html | null> => {
  const entries = ctx.benchEntries.filter((e) => e.result.roofline);
  if (entries.length === 0) return null;
  const rows = entries.map((e) => {
    const r = e.result.roofline!;
    return [
      e.result.model.id,
      e.label,
      fmt(r.macsPerFrame / 1e6, 1),
      gmacs(r.achievedGmacPerS, 2),
      r.dtype,
      gmacs(r.probe.int8GmacPerS),
      gmacs(r.probe.fp32GmacPerS),
      rooflineVerdict(r),
    ];
  });
  // A probe is of one runtime on one machine: two machines' probes of a runtime are two probes.
  const probes = [
    ...new Map(
      entries.map((e) => {
        const probe = e.result.roofline!.probe;
        const where = ctx.nameOf({ backend: probe.runtime, machine: machineLabel(e.result) });
        return [where, { where, probe }] as const;
      }),
    ).values(),
  ];
  const table = plainTable(
    [
      { header: 'model', text: true },
      { header: ctx.seriesTitle, text: true },
      { header: 'M MAC / frame' },
      { header: 'achieved GMAC/s' },
      { header: 'arithmetic', text: true },
      { header: 'probe int8 GMAC/s' },
      { header: 'probe fp32 GMAC/s' },
      { header: 'of the applicable peak', text: true, wrap: true },
    ],
    rows,
  );
  const how = probes
    .map(({ where, probe: p }) => `<li>${esc(`${where}, ${p.threads} thread(s): ${p.op}; ${p.method}`)}</li>`)
    .join('');
  const probedOn = ctx.machines.length > 1 ? "each row's machine" : 'this machine';
  const achieved = 'Achieved = MACs per frame counted from the graph / p50.';
  const probe = `The probe is measured on ${probedOn} through the same runtime after the timed runs`;
  const ceiling = 'so a model whose mix of ops runs faster than it on some runtime lands above 100 %';
  const note = `<p class="note">${achieved} ${probe}; it is a dense convolution, ${ceiling}.</p>`;
  return section(
    'roofline',
    'Roofline: achieved GMAC/s beside this CPU',
    `${table}${note}<details><summary>How each probe was made</summary><ul>${how}</ul></details>`,
  );
};
