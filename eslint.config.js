// The JavaScript lint of scripts/test.sh: ESLint's recommended rules on the page (browser and
// worker globals), the tests and the scripts (Node).
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['.venv/**', '.cache/**', 'www/pkg/**', 'www/vendor/**', 'node_modules/**', 'target/**', 'test-results/**', 'bench-results/**'] },
  js.configs.recommended,
  {
    files: ['www/**/*.js'],
    languageOptions: { globals: { ...globals.browser, ...globals.worker } },
  },
  {
    files: ['tests/**/*.mjs', 'tests/**/*.js', 'scripts/**/*.mjs', 'scripts/**/*.js', 'eslint.config.js'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    rules: {
      'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
    },
  },
];
