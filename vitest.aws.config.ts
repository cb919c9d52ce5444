// The AWS emulator tier (`npm run test:aws`): the AWS composition against moto_server, which
// the tier starts and stops itself. Needs Python with moto; `npm test` does not.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/aws/**/*.test.ts'],
    globalSetup: ['test/aws/global-setup.ts'],
    environment: 'node',
    // One moto serves every file; its state is reset per world, so files run one at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' },
  },
});
