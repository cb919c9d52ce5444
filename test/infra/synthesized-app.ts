// Test helper: one synthesized Taskbound app shared by every infrastructure test file, with
// inline code in place of bundles (bundles are measured separately in bundles.test.ts).
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildTaskboundApp, type TaskboundApp } from '../../lib/taskbound-app';

export interface SynthesizedApp extends TaskboundApp {
  readonly stateTemplate: Template;
  readonly engineTemplate: Template;
}

let cached: SynthesizedApp | undefined;

/** Builds and synthesizes the app once per test worker; `context` is CDK context (config). */
export function synthesizedApp(): SynthesizedApp {
  if (cached) return cached;
  const built = buildTaskboundApp({
    app: new App({
      context: {
        taskbound: { alarmEmail: 'oncall@example.com', operatorPrincipalArns: ['arn:aws:iam::111122223333:role/security-operators'] },
      },
    }),
    codeFor: () => lambda.Code.fromInline('export const handler = async () => ({});'),
  });
  // Synthesis runs cdk-nag: an unacknowledged finding throws here and fails every test.
  built.app.synth();
  cached = { ...built, stateTemplate: Template.fromStack(built.stateful), engineTemplate: Template.fromStack(built.engine) };
  return cached;
}
