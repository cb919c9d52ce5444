#!/usr/bin/env node
// CDK entry point for member accounts (`npx cdk --app "npx tsx bin/spoke.ts" deploy`): one spoke
// stack per account the policy names. See docs/deploy.md, "Hub and spoke".
import { buildSpokeApp } from '../lib/spoke-app';
import { synthesizeOrExplain } from '../lib/synth-entry';

await synthesizeOrExplain(() => buildSpokeApp());
