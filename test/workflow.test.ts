import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../src/util/paths.js';

interface Step {
  run?: string;
  uses?: string;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { steps: Step[] }>;
}

const workflow = parse(
  fs.readFileSync(path.join(PROJECT_ROOT, '.github', 'workflows', 'bench.yml'), 'utf8'),
) as Workflow;
const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);

test('the bench workflow runs on pull requests and pushes to main and calls scripts/ci-bench.sh against the base', (t) => {
  t.truthy(workflow.on.pull_request !== undefined && workflow.on.push !== undefined);
  const gate = steps.find((s) => s.run?.includes('scripts/ci-bench.sh'));
  t.truthy(gate, 'a step calls the CI script');
  t.regex(gate!.run!, /--base "\$\{\{ github\.event\.pull_request\.base\.sha \|\| github\.event\.before \}\}"/);
  t.truthy(
    steps.find((s) => s.uses?.startsWith('actions/upload-artifact')),
    'summary.html is uploaded',
  );
  t.truthy(
    steps.find((s) => s.uses?.startsWith('actions/checkout')),
    'the repository is checked out',
  );
  // The same script is what .ci/run exercises, so the recipe cannot rot unnoticed.
  t.regex(fs.readFileSync(path.join(PROJECT_ROOT, '.ci', 'run'), 'utf8'), /scripts\/ci-bench\.sh --report-only/);
});

test('ci-bench.sh is valid bash and refuses an unknown argument in one line', (t) => {
  const script = path.join(PROJECT_ROOT, 'scripts', 'ci-bench.sh');
  t.is(spawnSync('bash', ['-n', script]).status, 0);
  const r = spawnSync('bash', [script, '--bogus'], { encoding: 'utf8' });
  t.is(r.status, 2);
  t.regex(r.stderr, /unknown argument --bogus/);
});
