/* global module */
/**
 * The layers of src/, lowest first. A module may import its own folder and
 * any lower layer, never a sibling of its layer or anything above it; no
 * cycles between files. ARCHITECTURE.md explains each layer.
 */
const LAYERS = [
  ['util'],
  ['core'],
  ['metrics', 'models', 'video', 'datasets'],
  ['convert'],
  ['backends'],
  ['stream'],
  ['bench', 'accuracy', 'parity', 'live', 'browser', 'drift'],
  ['report'],
  ['run'],
  ['cli', 'api'],
];

const layerRules = LAYERS.flatMap((folders, i) =>
  folders.map((folder) => {
    const banned = LAYERS.slice(i)
      .flat()
      .filter((f) => f !== folder);
    return {
      name: `layer-${folder}`,
      severity: 'error',
      comment: `src/${folder} may import only its own folder and lower layers`,
      from: { path: `^src/${folder}/` },
      to: { path: `^src/(${banned.join('|')})/` },
    };
  }),
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'no import cycles, between files or folders',
      from: {},
      to: { circular: true },
    },
    {
      name: 'known-layer',
      severity: 'error',
      comment: 'every folder of src/ belongs to a layer',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: `^src/(${LAYERS.flat().join('|')})/` },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
