// Vitest for the browser tier: needs Debian's chromium (scripts/ensure-chromium.sh), so it is
// not part of `npm test`; run it with `npm run test:browser`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser-test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
