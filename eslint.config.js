import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.bench/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', fetch: 'readonly', AbortSignal: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The web UI runs in the browser.
    files: ['src/ui/**'],
    languageOptions: {
      globals: Object.fromEntries(['window', 'document', 'navigator', 'location', 'history', 'localStorage', 'WebSocket', 'HTMLElement',
        'HTMLInputElement', 'Element', 'Event', 'KeyboardEvent', 'MouseEvent', 'PointerEvent', 'ResizeObserver', 'requestAnimationFrame',
        'cancelAnimationFrame', 'URLSearchParams', 'AbortController', 'getComputedStyle', 'matchMedia', 'performance'].map((g) => [g, 'readonly'])),
    },
  },
);
