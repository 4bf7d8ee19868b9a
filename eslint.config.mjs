// ESLint: typescript-eslint recommended rules plus the architecture's import boundaries.
import tseslint from 'typescript-eslint';

const noVscode = {
  'no-restricted-imports': [
    'error',
    {
      paths: [
        {
          name: 'vscode',
          message: 'src/core and webview/ must not depend on VS Code; pass data in from src/extension.',
        },
      ],
    },
  ],
};
const noNodeBuiltins = {
  'no-restricted-imports': [
    'error',
    {
      paths: [{ name: 'vscode', message: 'src/core must not depend on VS Code.' }],
      patterns: [
        {
          group: ['node:*', 'fs', 'path', 'os', 'child_process', 'worker_threads', 'crypto'],
          message: 'src/core is pure: Node built-ins belong in src/node.',
        },
        // The layers around core depend on it, never the other way round (the protocols import types from core).
        {
          regex: '^(\\.\\./)+(node|extension|cli|webview)(/|$)',
          message: 'src/core is pure: it must not import from src/node, src/extension, src/cli or webview/.',
        },
        {
          regex: '^(\\.\\./)+(protocol|resultsProtocol|wire|testHooks)$',
          message: 'src/core must not import the message protocols (src/*.ts); they import types from core.',
        },
      ],
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'out/**',
      '.vscode-test/**',
      'test/fixtures/**/*.onnx',
      '*.vsix',
      'assembly/**',
      'src/core/wasm/*.generated.ts',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-exports': [
        'error',
        {
          restrictDefaultExports: {
            direct: true,
            named: true,
            defaultFrom: true,
            namedFrom: true,
            namespaceFrom: true,
          },
        },
      ],
    },
  },
  { files: ['src/core/**/*.ts'], rules: noNodeBuiltins },
  { files: ['webview/**/*.ts'], rules: noVscode },
  { files: ['eslint.config.mjs'], rules: { 'no-restricted-exports': 'off' } },
);
