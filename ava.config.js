// Test files run three at a time on a 2-core machine; the ones that take longest (wall time: a real-time stream,
// many real clips) start first, so none is left running alone at the end while the other cores idle.
const LONGEST_FIRST = [
  ...['live', 'batched', 'accuracy', 'cli', 'parity', 'fetch', 'faults', 'drift', 'tflite-native', 'html'],
  ...['streams', 'video-integrity', 'batched-live', 'distributed', 'sources', 'machines', 'backends', 'arch'],
];

const rank = (file) => {
  const name = file
    .split('/')
    .at(-1)
    .replace(/\.test\.ts$/, '');
  const i = LONGEST_FIRST.indexOf(name);
  return i === -1 ? LONGEST_FIRST.length : i;
};

export default {
  typescript: {
    rewritePaths: { 'src/': 'dist/src/', 'test/': 'dist/test/' },
    compile: false,
  },
  files: ['test/**/*.test.ts'],
  timeout: '3m',
  concurrency: 3,
  workerThreads: false,
  environmentVariables: { ORT_DISABLE_TELEMETRY: '1' },
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b),
};
