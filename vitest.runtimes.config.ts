// `npm run test:runtimes`: agent runtimes in other languages and the packed package, against the
// local engine. Kept out of `npm test`: it needs Python with boto3 and the AWS CLI (or curl), and builds.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/runtimes/**/*.runtime.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' },
  },
});
