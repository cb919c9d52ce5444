// Lint (run by `npm test`): the recommended rules, plus the ones that keep the core pure. The
// domain and the use cases never read the environment or the clock, and never do I/O: time
// comes in as `now` or through the Clock port, everything else through a port.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const CORE = ['lambdas/domain/**/*.ts', 'lambdas/use-cases/**/*.ts'];

const IO_MODULES = ['fs', 'fs/promises', 'net', 'http', 'https', 'child_process', 'dgram', 'tls'].flatMap((name) => [name, `node:${name}`]);

/** Lambda code takes zod as `import * as z` (below: why). */
const ZOD_NAMED_Z = {
  selector: "ImportDeclaration[source.value='zod'][importKind='value'] > ImportSpecifier[imported.name='z'][importKind='value']",
  message: "Write `import * as z from 'zod'`: the re-exported `z` puts all of zod and its locales in each Lambda bundle.",
};

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.taskbound/', 'bench/results/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // What a Lambda bundle is built from: esbuild cannot tree-shake a namespace a package
    // re-exports, and zod's `z` is one, so `import { z } from 'zod'` (ours or Powertools'
    // schemas') bundles all of zod with every locale (~285 KB a handler).
    files: ['lambdas/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', ZOD_NAMED_Z],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-lambda-powertools/parser/schemas/*'],
              message:
                "Powertools' schemas import `{ z }` from zod (all of zod and its locales in the bundle): use composition/lambda-event-schemas.",
            },
          ],
        },
      ],
    },
  },
  {
    files: CORE,
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'The core never reads the environment: the composition root passes configuration in.',
        },
        { object: 'Date', property: 'now', message: 'The core never reads the clock: take `now` as a parameter or use the Clock port.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'The core never touches the process: configuration and time come in through ports.' },
      ],
      'no-restricted-syntax': [
        'error',
        ZOD_NAMED_Z,
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'The core never reads the clock: `new Date()` needs an argument (use the Clock port).',
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: IO_MODULES.map((name) => ({ name, message: 'The core does no I/O: go through a port.' })),
          patterns: [
            {
              group: ['@aws-sdk/*', '@smithy/*', '@middy/*', '@aws-lambda-powertools/*'],
              message: 'The core knows no SDK: go through a port.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
