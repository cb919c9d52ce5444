#!/usr/bin/env node
// CDK entry point (`npx cdk synth`, `npm run deploy`): builds the Taskbound stacks from the
// CDK context's config and the policy file. No AWS lookups, so synth works offline.
import { buildTaskboundApp } from '../lib/taskbound-app';

buildTaskboundApp();
