import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { loadDatasetRef, loadSubset, loadUserDataset, shardClips, type Dataset } from '../src/datasets/dataset.js';
import { readProjectManifest } from '../src/datasets/manifest.js';
import { EXIT_BAD_INPUT, UserError } from '../src/util/errors.js';
import { dataDir } from '../src/util/paths.js';
import { cli, isOneLineError, tempDir } from './helpers.js';

const SAMPLE = path.join(dataDir(), 'datasets', 'kinetics-sample');
const ARM = path.join(SAMPLE, 'arm_wrestling__mmaction2-demo.mp4');
const TAI_CHI = path.join(SAMPLE, 'tai_chi__mmskeleton-ta_chi.mp4');
const PANCAKE = path.join(SAMPLE, 'flipping_pancake__decord-flipping_a_pancake.mkv');
// A real Kinetics clip (youtube id 9r8wpMS2iEk, seconds 48-58), so the Kinetics tests use a real id.
const HURDLING = path.join(SAMPLE, 'hurdling__VideoTransformer-pytorch-9r8wpMS2iEk_000048_000058.mp4');

const tmp = tempDir('movinet-datasets-');
let dirs = 0;

/** A fresh folder holding the given files: a string is written as text, a path object becomes a link to it. */
function folder(files: Record<string, string | { link: string }>): string {
  const dir = path.join(tmp, `d${dirs++}`);
  fs.mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (typeof content === 'string') fs.writeFileSync(file, content);
    else fs.symlinkSync(content.link, file);
  }
  return dir;
}

function refused(t: ExecutionContext, load: () => unknown, message: RegExp): string {
  const err = t.throws(load, { instanceOf: UserError });
  t.is(err!.exitCode, EXIT_BAD_INPUT);
  t.false(err!.message.includes('\n'), 'one line');
  t.regex(err!.message, message);
  return err!.message;
}

const labelled = (ds: Dataset) => ds.clips.map((c) => `${path.relative(ds.root, c.file)}=${c.label}`);

test('a CSV row naming a missing clip is refused with its line, before anything runs', (t) => {
  const dir = folder({
    'clips.csv': 'path,label\na/arm.mp4,arm wrestling\na/missing.mp4,arm wrestling\n',
    'a/arm.mp4': { link: ARM },
  });
  const csv = path.join(dir, 'clips.csv');
  refused(t, () => loadUserDataset(csv), new RegExp(`^dataset ${csv} line 3: clip a/missing.mp4 does not exist$`));
  // Two missing: the first is named, and the count says it is not alone.
  fs.appendFileSync(csv, 'b/gone.mp4,yoga\n');
  refused(t, () => loadUserDataset(csv), /line 3: clip a\/missing\.mp4 does not exist \(2 of 3 listed clips/);
  const ds = loadUserDataset(csv, { allowMissing: true });
  t.deepEqual(labelled(ds), ['a/arm.mp4=arm wrestling']);
  t.is(ds.missingClips, 2);
  t.is(shardClips(ds, null).missingClips, 2, 'sharding keeps the count');
});

test('a clip path escaping the dataset folder is refused; the same clip as an absolute path is accepted', (t) => {
  const dir = folder({});
  const rel = path.relative(dir, ARM);
  t.true(rel.startsWith('../'));
  const escaping = path.join(dir, 'escape.csv');
  fs.writeFileSync(escaping, `${rel},arm wrestling\n`);
  refused(
    t,
    () => loadUserDataset(escaping),
    new RegExp(
      `^dataset ${escaping} line 1: clip ${rel} escapes the dataset folder ${dir} \\(give an absolute path to use a clip elsewhere\\)$`,
    ),
  );
  const absolute = path.join(dir, 'absolute.csv');
  fs.writeFileSync(absolute, `${ARM},arm wrestling\n`);
  const ds = loadUserDataset(absolute);
  t.is(ds.missingClips, undefined, 'set only when missing clips were allowed');
  t.deepEqual(
    ds.clips.map((c) => c.file),
    [ARM],
  );
  // An escape that comes back inside is still inside.
  const back = folder({ 'x/y.csv': `../x/arm.mp4,arm wrestling\n`, 'x/arm.mp4': { link: ARM } });
  t.is(loadUserDataset(path.join(back, 'x/y.csv')).clips.length, 1);
});

test('a directory, an empty file or a dangling link as a clip is refused', (t) => {
  const dir = folder({ 'clip.mp4/keep': '', 'empty.mp4': '', 'ok.mp4': { link: ARM } });
  fs.symlinkSync(path.join(dir, 'nowhere.mp4'), path.join(dir, 'dangling.mp4'));
  const csv = (rows: string) => {
    fs.writeFileSync(path.join(dir, 'c.csv'), rows);
    return path.join(dir, 'c.csv');
  };
  refused(
    t,
    () => loadUserDataset(csv('ok.mp4,a\nclip.mp4,b\n')),
    /line 2: clip clip\.mp4 is a directory, not a video file$/,
  );
  refused(t, () => loadUserDataset(csv('empty.mp4,a\n')), /line 1: clip empty\.mp4 is empty$/);
  refused(t, () => loadUserDataset(csv('ok.mp4,a\ndangling.mp4,a\n')), /line 2: clip dangling\.mp4 does not exist$/);
  // Only missing clips may be dropped; a directory listed as a clip is a mistake in the list.
  refused(t, () => loadUserDataset(csv('ok.mp4,a\nclip.mp4,b\n'), { allowMissing: true }), /is a directory/);
});

test('a clip listed twice is refused, also through another spelling or a link', (t) => {
  const dir = folder({ 'a/arm.mp4': { link: ARM }, 'b/alias.mp4': { link: ARM }, 'tai.mp4': { link: TAI_CHI } });
  const csv = path.join(dir, 'c.csv');
  fs.writeFileSync(csv, 'path,label\na/arm.mp4,x\ntai.mp4,y\n./a/../a/arm.mp4,x\n');
  refused(
    t,
    () => loadUserDataset(csv),
    /line 4: clip \.\/a\/\.\.\/a\/arm\.mp4 is the same file as line 2 \(a\/arm\.mp4\)/,
  );
  fs.writeFileSync(csv, `tai.mp4,y\n${path.join(dir, 'b/alias.mp4')},z\na/arm.mp4,x\n`);
  refused(t, () => loadUserDataset(csv), /line 3: clip a\/arm\.mp4 is the same file as line 2/);
  // A folder dataset holding one clip under two labels would count it twice too.
  refused(t, () => loadUserDataset(dir), /^dataset .*: clip b\/alias\.mp4 is the same file as a\/arm\.mp4/);
});

test('an empty list is refused', (t) => {
  const dir = folder({ 'empty.csv': '', 'header.csv': 'path,label\n\n  \n', 'blank.json': '[]' });
  refused(t, () => loadUserDataset(path.join(dir, 'empty.csv')), /empty\.csv lists no clips$/);
  refused(t, () => loadUserDataset(path.join(dir, 'header.csv')), /header\.csv lists no clips$/);
  refused(t, () => loadUserDataset(path.join(dir, 'blank.json')), /blank\.json lists no clips$/);
  refused(t, () => loadUserDataset(folder({ 'loose.mp4': { link: ARM } })), /has no <label>\/<clip> videos/);
});

test('header rows: path,label, file,label and label,path are skipped; without one every row is a clip', (t) => {
  const dir = folder({ 'arm.mp4': { link: ARM }, 'tai.mp4': { link: TAI_CHI } });
  const load = (text: string) => {
    fs.writeFileSync(path.join(dir, 'c.csv'), text);
    return labelled(loadUserDataset(path.join(dir, 'c.csv')));
  };
  const both = ['arm.mp4=arm wrestling', 'tai.mp4=tai chi'];
  t.deepEqual(load('file,label\narm.mp4,arm wrestling\ntai.mp4,tai chi\n'), both);
  t.deepEqual(load('PATH , Label\r\narm.mp4,arm wrestling\r\ntai.mp4,tai chi\r\n'), both);
  t.deepEqual(load('label,path\narm wrestling,arm.mp4\ntai chi,tai.mp4\n'), both);
  t.deepEqual(load('\uFEFFarm.mp4,arm wrestling\n\n  tai.mp4 ,  tai chi \n'), both);
  // A header of column names that cannot say which file is which is refused, not read as a clip.
  refused(
    t,
    () => load('youtube_id,time_start,time_end,split\nabc,1,2,test\n'),
    /line 1: the header .* has no label column/,
  );
});

test('a quoted label may hold a comma; an unquoted one is refused with its line', (t) => {
  const dir = folder({ 'arm.mp4': { link: ARM }, 'x y.mp4': { link: TAI_CHI } });
  const csv = path.join(dir, 'c.csv');
  fs.writeFileSync(
    csv,
    'path,label\n"x y.mp4","passing American football (in game), ""pro"""\narm.mp4,arm wrestling\n',
  );
  t.deepEqual(labelled(loadUserDataset(csv)), [
    'x y.mp4=passing American football (in game), "pro"',
    'arm.mp4=arm wrestling',
  ]);
  fs.writeFileSync(csv, 'arm.mp4,arm wrestling\nx y.mp4,cooking, on campfire\n');
  refused(t, () => loadUserDataset(csv), /line 2: row has 3 columns, expected 2 \(path,label\); quote a label/);
  fs.writeFileSync(csv, 'arm.mp4,"arm wrestling\n');
  refused(t, () => loadUserDataset(csv), /c\.csv is not valid CSV: Quote Not Closed/);
});

const KINETICS_HEADER = 'label,youtube_id,time_start,time_end,split,is_cc';

test('the official Kinetics CSV finds clips by id and times in one folder', (t) => {
  const dir = folder({
    'val.csv': [
      KINETICS_HEADER,
      'hurdling,9r8wpMS2iEk,48,58,validate,0',
      '"arm wrestling",abcdefghijk,10,20,validate,0',
      'flipping pancake,-_-x_y-Z012,0.0,10,validate,1',
    ].join('\n'),
    '9r8wpMS2iEk_000048_000058.mp4': { link: HURDLING },
    'abcdefghijk_000010_000020.mp4': { link: ARM },
    '-_-x_y-Z012_000000_000010.mkv': { link: PANCAKE },
    // Neither a hidden file nor another clip of a similar name is taken for a listed one.
    '.abcdefghijk_000010_000020.mp4': { link: TAI_CHI },
    'abcdefghijk_000010_000021.mp4': { link: TAI_CHI },
  });
  const ds = loadUserDataset(path.join(dir, 'val.csv'));
  t.is(ds.root, dir);
  t.deepEqual(labelled(ds), [
    '9r8wpMS2iEk_000048_000058.mp4=hurdling',
    'abcdefghijk_000010_000020.mp4=arm wrestling',
    '-_-x_y-Z012_000000_000010.mkv=flipping pancake',
  ]);
  t.deepEqual(
    ds.clips.map((c) => fs.realpathSync(c.file)),
    [HURDLING, ARM, PANCAKE].map((f) => fs.realpathSync(f)),
  );
});

test('the official Kinetics CSV finds clips in <label>/ folders, spelled with spaces or underscores', (t) => {
  const dir = folder({
    'val.csv': [KINETICS_HEADER, 'arm wrestling,abcdefghijk,10,20,val,0', 'tai chi,ABCDEFGHIJK,0,10,val,0'].join('\n'),
    'arm wrestling/abcdefghijk_000010_000020.mp4': { link: ARM },
    'tai_chi/ABCDEFGHIJK_000000_000010.mp4': { link: TAI_CHI },
  });
  const ds = loadUserDataset(path.join(dir, 'val.csv'));
  t.deepEqual(labelled(ds), [
    'arm wrestling/abcdefghijk_000010_000020.mp4=arm wrestling',
    'tai_chi/ABCDEFGHIJK_000000_000010.mp4=tai chi',
  ]);
  // The same clip in both layouts is ambiguous, not silently one of them.
  fs.symlinkSync(ARM, path.join(dir, 'abcdefghijk_000010_000020.webm'));
  refused(
    t,
    () => loadUserDataset(path.join(dir, 'val.csv')),
    /line 2: clip abcdefghijk_000010_000020 matches 2 files/,
  );
});

test('missing Kinetics clips are refused with the first and the count, or dropped and counted when allowed', (t) => {
  const dir = folder({
    'val.csv': [
      KINETICS_HEADER,
      'arm wrestling,abcdefghijk,10,20,val,0',
      'tai chi,missing0000,30,40,val,0',
      'yoga,missing0001,0,10,val,0',
    ].join('\n'),
    'abcdefghijk_000010_000020.mp4': { link: ARM },
  });
  const csv = path.join(dir, 'val.csv');
  refused(
    t,
    () => loadUserDataset(csv),
    new RegExp(
      `^dataset ${csv}: 2 of 3 listed clips are not found under ${dir} .*\\(first: line 3, missing0000_000030_000040, label 'tai chi'\\); --allow-missing-clips`,
    ),
  );
  const ds = loadUserDataset(csv, { allowMissing: true });
  t.deepEqual(labelled(ds), ['abcdefghijk_000010_000020.mp4=arm wrestling']);
  t.is(ds.missingClips, 2);
  fs.unlinkSync(path.join(dir, 'abcdefghijk_000010_000020.mp4'));
  // None found is a wrong folder, not a partial mirror: no hint to go on without them.
  const none = refused(
    t,
    () => loadUserDataset(csv),
    /: none of the 3 listed clips are found under .*\(first: line 2, abcdefghijk/,
  );
  t.false(none.includes('--allow-missing-clips'));
  refused(t, () => loadUserDataset(csv, { allowMissing: true }), /none of the 3 listed clips exist/);
});

test('a validation-sized Kinetics list is indexed once, not searched per row', (t) => {
  const rows = Array.from({ length: 28_000 }, (_, i) => `label ${i % 600},id${String(i).padStart(9, '0')},0,10,val,0`);
  const dir = folder({
    'val.csv': [KINETICS_HEADER, 'arm wrestling,abcdefghijk,10,20,val,0', ...rows].join('\n'),
    'arm wrestling/abcdefghijk_000010_000020.mp4': { link: ARM },
  });
  // Counted, not timed: every filesystem look-up the loader makes, by call and path.
  const calls: string[] = [];
  const names = ['readdirSync', 'statSync', 'lstatSync', 'existsSync', 'accessSync', 'realpathSync'] as const;
  const originals = names.map((name) => [name, fs[name]] as const);
  for (const [name, original] of originals)
    Object.assign(fs, {
      [name]: (...args: unknown[]) => {
        calls.push(`${name} ${String(args[0])}`);
        return (original as (...a: unknown[]) => unknown)(...args);
      },
    });
  let ds: Dataset;
  try {
    ds = loadUserDataset(path.join(dir, 'val.csv'), { allowMissing: true });
  } finally {
    for (const [name, original] of originals) Object.assign(fs, { [name]: original });
  }
  t.is(ds.clips.length, 1);
  t.is(ds.missingClips, 28_000);
  // Each folder a row may name (the root, and a label folder with spaces or with '_') is read once at
  // most, whatever the number of rows; anything else is looked up a handful of times, not per row.
  const readdirs = calls.filter((c) => c.startsWith('readdirSync '));
  t.is(new Set(readdirs).size, readdirs.length, 'no folder is read twice');
  t.true(readdirs.length <= 1 + 2 * 601, `${readdirs.length} folders read`);
  t.true(calls.length - readdirs.length < 50, `${calls.length - readdirs.length} other look-ups`);
});

test('a JSON manifest that is not JSON or not a clip list is refused in one line naming the file', (t) => {
  const dir = folder({ 'arm.mp4': { link: ARM } });
  const json = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const bad = json('bad.json', '[{"file": "arm.mp4", "label": "x",}]');
  refused(t, () => loadUserDataset(bad), new RegExp(`^dataset ${bad} is not valid JSON: `));
  refused(
    t,
    () => loadUserDataset(json('m1.json', '[{"file": "arm.mp4"}]')),
    /m1\.json entry 1 field label: .*expected string/,
  );
  refused(
    t,
    () => loadUserDataset(json('m2.json', '{"clips": [{"file": "arm.mp4", "label": "x"}, {"file": 3, "label": "y"}]}')),
    /m2\.json entry 2 field file: /,
  );
  refused(t, () => loadUserDataset(json('m3.json', '{"files": []}')), /m3\.json is not a clip list: expected an array/);
  refused(
    t,
    () => loadUserDataset(json('m4.json', '[{"file": "arm.mp4", "label": "x", "sha256": "abc"}]')),
    /m4\.json entry 1 field sha256: expected 64 hex digits/,
  );
  refused(
    t,
    () => loadUserDataset(json('m5.json', '[{"file": "nope.mp4", "label": "x"}]')),
    /m5\.json entry 1: clip nope\.mp4 does not exist$/,
  );
  // The project's shape is accepted too, with its name; its clips are beside the manifest like any user list's.
  const ds = loadUserDataset(
    json('mine.json', '{"name": "mine", "clips": [{"file": "arm.mp4", "label": "arm wrestling"}]}'),
  );
  t.is(ds.name, 'mine');
  t.deepEqual(labelled(ds), ['arm.mp4=arm wrestling']);
  // And the project's own manifest, given by path, is the subset it describes.
  const subset = loadDatasetRef('datasets/kinetics-sample/manifest.json');
  t.deepEqual(subset, loadSubset('kinetics-sample'));
  t.is(subset.clips.length, 22);
});

test('a subset manifest that is broken is named; unknown subsets and absent paths are told apart', (t) => {
  const dir = folder({ 'bad.json': '{"name": "x", "clips": [{"file": "a.mp4", "label": "a"}]}', 'nojson.json': '{' });
  refused(
    t,
    () => readProjectManifest(path.join(dir, 'bad.json'), 'subset x manifest bad.json'),
    /^subset x manifest bad\.json entry 1 field sha256: /,
  );
  refused(
    t,
    () => readProjectManifest(path.join(dir, 'nojson.json'), 'subset x manifest nojson.json'),
    /^subset x manifest nojson\.json is not valid JSON: /,
  );
  refused(t, () => loadDatasetRef('../kinetics-sample'), /^dataset \.\.\/kinetics-sample does not exist$/);
  refused(
    t,
    () => loadSubset('../datasets/kinetics-sample'),
    /^unknown subset '\.\.\/datasets\/kinetics-sample'; known: .*kinetics-sample/,
  );
  refused(t, () => loadDatasetRef('no-such-subset'), /^unknown subset 'no-such-subset'/);
});

test('folder datasets: <label>/<clip>, hidden files and loose files ignored', (t) => {
  const dir = folder({
    'arm_wrestling/arm.mp4': { link: ARM },
    'arm_wrestling/.arm.mp4': { link: TAI_CHI },
    'arm_wrestling/notes.txt': 'not a clip',
    '.hidden/tai.mp4': { link: TAI_CHI },
    'loose.mp4': { link: PANCAKE },
    'tai chi/tai.mp4': { link: TAI_CHI },
  });
  t.deepEqual(labelled(loadUserDataset(dir)), ['arm_wrestling/arm.mp4=arm_wrestling', 'tai chi/tai.mp4=tai chi']);
  fs.writeFileSync(path.join(dir, 'tai chi', 'broken.mp4'), '');
  refused(t, () => loadUserDataset(dir), new RegExp(`^dataset ${dir}: clip tai chi/broken\\.mp4 is empty$`));
});

test('CLI: a dataset naming a missing clip stops before any model is loaded, in one line, with no report', (t) => {
  const dir = folder({ 'arm.mp4': { link: ARM } });
  const csv = path.join(dir, 'clips.csv');
  fs.writeFileSync(csv, 'path,label\narm.mp4,arm wrestling\nsub/missing.mp4,tai chi\n');
  const out = path.join(dir, 'a.json');
  const r = cli(['accuracy', '--dataset', csv, '--backends', 'tfjs-tflite', '--out', out]);
  t.is(r.code, 2, r.stderr);
  t.true(isOneLineError(r.stderr), r.stderr);
  t.regex(r.stderr, /line 3: clip sub\/missing\.mp4 does not exist/);
  t.false(fs.existsSync(out));
});
