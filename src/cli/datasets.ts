import type { Command } from 'commander';
import { fetchSubset } from '../datasets/fetch.js';
import { formatBytes } from '../util/download.js';
import { emit } from './emit.js';

export function registerDatasets(program: Command): void {
  const datasets = program.command('datasets').description("the project's clip subsets");

  datasets
    .command('fetch <subset>')
    .description(
      "download the clips of a subset that are missing (from each clip's recorded source, or MOVINET_MIRROR) " +
        'into the cache, each checked against its sha256',
    )
    .option('--json', 'machine-readable output', false)
    .action(async (name: string, flags: { json: boolean }) => {
      const r = await fetchSubset(name, { verifyPresent: true });
      const present = r.clips.length - r.fetched;
      const text =
        `${r.name}: ${r.clips.length} clips in ${r.dir}, sha256 verified` +
        (r.fetched
          ? ` (${r.fetched} fetched, ${formatBytes(r.fetchedBytes)}; ${present} already there)`
          : ' (all already there)');
      emit({ value: r, text }, flags.json);
    });
}
