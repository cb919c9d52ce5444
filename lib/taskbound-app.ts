// CDK app assembly: config → policy file (validated, errors naming file and path) → the
// stateful stack → the engine stack, with cdk-nag's AwsSolutions checks on everything.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Tags, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parsePolicy } from '../lambdas/domain/policy-file';
import type { Policy } from '../lambdas/domain/policy';
import { PROJECT_ROOT, type EngineHandler } from './bundling';
import { ConfigError, loadConfig, type TaskboundConfig } from './config';
import { applyNagSuppressions } from './nag-suppressions';
import { pascal } from './naming';
import { EngineStack } from './stacks/engine-stack';
import { StatefulStack } from './stacks/stateful-stack';

export interface TaskboundAppOptions {
  readonly app?: App;
  /** Code to deploy instead of bundling each handler (infrastructure tests read only the template). */
  readonly codeFor?: (handler: EngineHandler) => lambda.Code;
  /** Where relative paths in the config resolve from. */
  readonly root?: string;
}

export interface TaskboundApp {
  readonly app: App;
  readonly config: TaskboundConfig;
  readonly policy: Policy;
  readonly stateful: StatefulStack;
  readonly engine: EngineStack;
}

/**
 * Reads and validates the policy file. A file that cannot be read is a setting to fix (a ConfigError
 * naming `policyFile`, where it looked and from where relative paths resolve), not a stack trace.
 */
export function loadPolicyFile(file: string, root: string): { readonly text: string; readonly policy: Policy } {
  const absolute = path.resolve(root, file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const where = absolute === file ? file : `${file}, read as ${absolute}: a relative path is taken from ${root}`;
    throw new ConfigError([`policyFile: cannot read the policy file (${code}): ${where}`]);
  }
  return { text, policy: parsePolicy(text, file) };
}

/** Builds both stacks. Env-agnostic: no account or region lookups, so synth needs no credentials. */
export function buildTaskboundApp(options: TaskboundAppOptions = {}): TaskboundApp {
  const app = options.app ?? new App();
  const config = loadConfig(app.node.getAllContext());
  const { text, policy } = loadPolicyFile(config.policyFile, options.root ?? PROJECT_ROOT);
  const prefix = pascal(config.instanceName);

  const stateful = new StatefulStack(app, `${prefix}State`, {
    config,
    policy,
    description: 'Taskbound: grants table, event bus, delivery key, Slack secret, issued-credential boundary',
  });
  const engine = new EngineStack(app, `${prefix}Engine`, {
    config,
    policy,
    policyYaml: text,
    state: stateful.state,
    description: 'Taskbound: the engine functions, routes, schedules, alarms and event schemas',
    ...(options.codeFor ? { codeFor: options.codeFor } : {}),
  });
  Tags.of(app).add('taskbound:component', 'engine');
  applyNagSuppressions({ config, policy, stateful, engine });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, config, policy, stateful, engine };
}
