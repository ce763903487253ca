import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { ARM_WRESTLING, CLI_MAIN, isOneLineError, tempDir } from './helpers.js';

/**
 * README line 1 runs the main job on any machine with Node: no system package manager, no ffmpeg, no Chromium.
 * What only later commands need is named, with how to get it, by the command that needs it. The main job itself
 * runs with only Node on PATH, on a fresh machine's empty cache, in test/sources.test.ts.
 */
const readmeLines = () => {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  return block
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.replace(/\s+#.*$/, '').trim());
};

const root = tempDir('movinet-first-line-');
/** A PATH with node and nothing else: what a fresh macOS or Ubuntu machine has of ours. */
const nodeOnly = path.join(root, 'bin');
fs.mkdirSync(nodeOnly);
fs.symlinkSync(process.execPath, path.join(nodeOnly, 'node'));

test.after.always(() => fs.rmSync(root, { recursive: true, force: true }));

function bare(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(path.join(nodeOnly, 'node'), [CLI_MAIN, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { HOME: process.env.HOME ?? root, PATH: nodeOnly, CHROMIUM_PATH: path.join(root, 'no-chromium'), ...env },
    timeout: 150_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('README line 1 installs no system package and runs the main job; line 2 runs the tests', (t) => {
  const [first, second] = readmeLines();
  t.truthy(first);
  t.notRegex(first!, /\b(apt-get|apt|brew|snap|dnf|yum|sudo|winget)\b/);
  t.regex(first!, /^npm ci && npm run build && npx movinet-bench bench --models a0 --threads 1$/);
  t.regex(second!, /&& npm test$/);
});

test('a command that needs ffmpeg, or Chromium, names it and how to get it in one line, exit 2', (t) => {
  const clip = bare(['classify', ARM_WRESTLING, '--model', 'a0']);
  t.is(clip.code, 2);
  t.true(isOneLineError(clip.stderr), clip.stderr);
  t.regex(
    clip.stderr,
    /ff(mpeg|probe) not found on PATH; clips need it: install ffmpeg \(Debian\/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg; .*\) or set FF(MPEG|PROBE)_PATH/,
  );

  const page = bare(['bench', '--models', 'a0', '--target', 'chromium', '--frames', '5']);
  t.is(page.code, 2);
  t.true(isOneLineError(page.stderr), page.stderr);
  t.regex(
    page.stderr,
    /Chromium not found at .*no-chromium; --target chromium needs it: install it \(Debian: apt-get install chromium; Ubuntu: snap install chromium, .*\) or set CHROMIUM_PATH/,
  );
});

test('scripts/system-deps.sh without apt-get names what is missing and how to get it, exit 1', (t) => {
  // bash and the few tools the script uses, but no apt-get, ffmpeg or Chromium.
  const bin = path.join(root, 'tools');
  fs.mkdirSync(bin);
  for (const tool of ['bash', 'id', 'grep']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    fs.symlinkSync(found, path.join(bin, tool));
  }
  const r = spawnSync(path.join(bin, 'bash'), [path.join(PROJECT_ROOT, 'scripts', 'system-deps.sh')], {
    encoding: 'utf8',
    env: { PATH: bin, CHROMIUM_PATH: path.join(root, 'no-chromium') },
  });
  t.is(r.status, 1, r.stderr);
  t.regex(
    r.stderr,
    /ffmpeg\/ffprobe missing \(clips need them\): apt-get install ffmpeg \(Debian\/Ubuntu\), brew install ffmpeg \(macOS\)/,
  );
  t.regex(
    r.stderr,
    /Chromium missing at .*no-chromium .*snap install chromium then CHROMIUM_PATH=\/snap\/bin\/chromium \(Ubuntu\)/,
  );
  t.notRegex(r.stdout, /installing/);
});
