import { UserError } from '../util/errors.js';

/** What `--shard` was given: an explicit slice, or `auto` (with the count when the engine does not export it). */
export type ShardRequest = { kind: 'explicit'; index: number; count: number } | { kind: 'auto'; count: number | null };

export type ShardScheme = 'explicit' | 'slurm-array' | 'k8s-indexed-job';

/** A resolved slice and where its index came from, as the report records it. */
export interface ResolvedShard {
  index: number;
  count: number;
  scheme: ShardScheme;
  /** e.g. 'SLURM_ARRAY_TASK_ID=2, SLURM_ARRAY_TASK_COUNT=4'. */
  source: string;
  /**
   * The engine's name for the task that runs this slice (e.g. 'slurm job 123, array task 2'), for a merge to
   * name a gap.
   */
  task: string | null;
}

type Env = Readonly<Record<string, string | undefined>>;

const wholeNumber = (env: Env, name: string): number | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new UserError(`--shard auto: ${name}=${raw} is not a whole number`);
  return Number(raw);
};

function slurm(env: Env, countFlag: number | null): ResolvedShard {
  const id = wholeNumber(env, 'SLURM_ARRAY_TASK_ID')!;
  const exported = wholeNumber(env, 'SLURM_ARRAY_TASK_COUNT');
  const min = wholeNumber(env, 'SLURM_ARRAY_TASK_MIN');
  const max = wholeNumber(env, 'SLURM_ARRAY_TASK_MAX');
  const step = wholeNumber(env, 'SLURM_ARRAY_TASK_STEP');
  // An array 1-4 or 0-6:2 would slice some clips twice and others never: refused, not remapped.
  if (min !== undefined && min !== 0)
    throw new UserError(`--shard auto: the Slurm array starts at ${min}; submit it as --array=0-<n-1>`);
  if (step !== undefined && step !== 1)
    throw new UserError(`--shard auto: the Slurm array has step ${step}; submit it as --array=0-<n-1> (step 1)`);
  const count = exported ?? countFlag;
  if (count === null || count === undefined)
    throw new UserError('--shard auto: SLURM_ARRAY_TASK_COUNT is not set; give the count: --shard auto/<n>');
  if (exported !== undefined && countFlag !== null && exported !== countFlag)
    throw new UserError(`--shard auto/${countFlag} contradicts SLURM_ARRAY_TASK_COUNT=${exported}`);
  if (max !== undefined && max !== count - 1)
    throw new UserError(`--shard auto: SLURM_ARRAY_TASK_MAX=${max} does not end an array of ${count} tasks from 0`);
  if (id >= count) throw new UserError(`--shard auto: SLURM_ARRAY_TASK_ID=${id} is not below the count ${count}`);
  const job = env.SLURM_ARRAY_JOB_ID;
  const countFrom = exported !== undefined ? `SLURM_ARRAY_TASK_COUNT=${exported}` : `--shard auto/${count}`;
  return {
    index: id,
    count,
    scheme: 'slurm-array',
    source: `SLURM_ARRAY_TASK_ID=${id}, ${countFrom}`,
    task: job ? `slurm job ${job}, array task ${id}` : `slurm array task ${id}`,
  };
}

function kubernetes(env: Env, countFlag: number | null): ResolvedShard {
  const index = wholeNumber(env, 'JOB_COMPLETION_INDEX')!;
  if (countFlag === null) {
    const unexported = 'a Kubernetes Indexed Job does not export its completion count';
    throw new UserError(`--shard auto: ${unexported}; give it: --shard auto/<completions>`);
  }
  if (index >= countFlag)
    throw new UserError(`--shard auto/${countFlag}: JOB_COMPLETION_INDEX=${index} is not below the count`);
  const pod = env.HOSTNAME;
  return {
    index,
    count: countFlag,
    scheme: 'k8s-indexed-job',
    source: `JOB_COMPLETION_INDEX=${index}, --shard auto/${countFlag}`,
    task: `kubernetes indexed job, completion index ${index}${pod ? ` (pod ${pod})` : ''}`,
  };
}

/** The slice this process evaluates: explicit, or from the engine that started it. */
export function resolveShard(req: ShardRequest, env: Env = process.env): ResolvedShard {
  if (req.kind === 'explicit')
    return {
      index: req.index,
      count: req.count,
      scheme: 'explicit',
      source: `--shard ${req.index}/${req.count}`,
      task: null,
    };
  const inSlurm = env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_ID !== '';
  const inK8s = env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETION_INDEX !== '';
  if (inSlurm && inK8s)
    throw new UserError('--shard auto: both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX are set; give --shard i/n');
  if (inSlurm) return slurm(env, req.count);
  if (inK8s) return kubernetes(env, req.count);
  const engines = ['SLURM_ARRAY_TASK_ID (a Slurm job array)', 'JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)'];
  throw new UserError(`--shard auto: neither ${engines.join(' nor ')} is set; give --shard i/n`);
}
