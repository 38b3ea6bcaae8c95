import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'var/**', 'node_modules/**', 'bench/results/**'] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
      'no-restricted-imports': ['error', { paths: [{ name: 'uWebSockets.js', message: 'Only src/http-bridge/app.ts imports uWebSockets.js.' }] }],
    },
  },
  {
    files: ['src/http-bridge/app.ts', 'bench/**', 'test/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Tests assert shapes right after reading them; a `!` there says "the assertion above holds".
    files: ['test/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['src/smpp/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:net', 'node:fs', 'ioredis', 'pino', '../core/config*', '../store/*'] }],
    },
  },
);
