#!/usr/bin/env node
// CDK entry point (`npx cdk synth`, `npm run deploy`): builds the Taskbound stacks from the
// CDK context's config and the policy file. No AWS lookups, so synth works offline.
import { App } from 'aws-cdk-lib';
import { assertPolicyLints } from '../lambdas/policy-lint/scope-lint';
import { PROJECT_ROOT } from '../lib/bundling';
import { loadConfig } from '../lib/config';
import { synthesizeOrExplain } from '../lib/synth-entry';
import { buildTaskboundApp, loadPolicyFile } from '../lib/taskbound-app';

// The scope lint reads the Service Authorization Reference (async), so it runs before the
// stacks are built: a policy with an error fails `cdk synth` naming file, path and rule.
await synthesizeOrExplain(async () => {
  const app = new App();
  await assertPolicyLints(loadPolicyFile(loadConfig(app.node.getAllContext()).policyFile, PROJECT_ROOT).policy);
  buildTaskboundApp({ app });
});
