// Lint rules: typescript-eslint's strict set on sources and tests; generated flatbuffer code is left as flatc wrote it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'reports/', 'src/models/tflite-schema/*_generated.ts'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      // Indexing is checked by noUncheckedIndexedAccess; a `!` there records a bound the code has just established.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
);
