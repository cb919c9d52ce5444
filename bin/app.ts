#!/usr/bin/env node
// CDK entry point (`npx cdk synth`, `npm run deploy`): builds the Taskbound stacks from the
// CDK context's config and the policy file. No AWS lookups, so synth works offline.
import { assertPolicyLints } from '../lambdas/policy-lint/scope-lint';
import { buildTaskboundApp } from '../lib/taskbound-app';

// The scope lint reads the Service Authorization Reference (async): a policy with an error
// rejects here, before the app synthesizes, so `cdk synth` fails naming file and path.
const { policy } = buildTaskboundApp();
await assertPolicyLints(policy);
