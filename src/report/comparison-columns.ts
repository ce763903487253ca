import type { Column } from './columns.js';
import type { ComparisonRow } from './compare.js';
import { pValue, signedChange } from './format.js';

const change = (r: ComparisonRow): string => (r.change === null ? '–' : signedChange(r.change, r.changeKind));

/** The columns of a comparison, for every format. */
export const comparisonColumns: Column<ComparisonRow>[] = [
  { id: 'machine', header: 'machine', text: true, wide: true, cell: (r) => r.machine ?? '' },
  { id: 'model', header: 'model', text: true, cell: (r) => r.model },
  { id: 'backend', header: 'backend', text: true, cell: (r) => r.backend },
  { id: 'metric', header: 'metric', text: true, cell: (r) => r.metric },
  { id: 'old', header: 'old', cell: (r) => r.shown[0] },
  { id: 'new', header: 'new', cell: (r) => r.shown[1] },
  { id: 'change', header: 'change', cell: change },
  { id: 'p', header: 'p', cell: (r) => pValue(r.pValue) },
  { id: 'verdict', header: 'verdict', text: true, cell: (r) => r.verdict },
  { id: 'test', header: 'test', text: true, wide: true, cell: (r) => r.test ?? '' },
  { id: 'note', header: 'note', text: true, cell: (r) => r.note ?? '' },
];
