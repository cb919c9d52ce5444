// CDK app assembly (member accounts): one spoke stack per account the policy names, each pinned
// to its account, with cdk-nag's AwsSolutions checks. The hub's EngineRoleArns output is its input.
import { App, DefaultStackSynthesizer, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { z } from 'zod';
import { accountsNamed } from '../lambdas/domain/accounts';
import { PROJECT_ROOT } from './bundling';
import { ConfigError, loadConfig, type TaskboundConfig } from './config';
import { pascal } from './naming';
import { acknowledgeCopiedWildcards, ANY_RESOURCE_REASONS } from './nag-suppressions';
import { SpokeStack } from './stacks/spoke-stack';
import { loadPolicyFile } from './taskbound-app';

/** `-c taskboundSpoke='{"hubEngineRoleArns":[...],"accounts":[...]}'` or the `taskboundSpoke` key in cdk.json. */
const spokeContextSchema = z.strictObject({
  hubEngineRoleArns: z.union([
    z.array(z.string().min(1)).min(1),
    z
      .string()
      .min(1)
      .transform((list) => list.split(',')),
  ]),
  /** Only these accounts (default: every account the policy names). */
  accounts: z.array(z.string().regex(/^\d{12}$/)).optional(),
});

const SPOKE_CONTEXT_EXAMPLE = `-c 'taskboundSpoke={"hubEngineRoleArns":"<the hub's EngineRoleArns output>"}'`;

/** The `taskboundSpoke` context: an object (cdk.json) or its JSON (`-c`); absent or not JSON, a ConfigError saying what to type. */
function spokeContext(raw: unknown): unknown {
  if (raw === undefined)
    throw new ConfigError([
      `taskboundSpoke: not given; name the hub's engine roles: ${SPOKE_CONTEXT_EXAMPLE} (or a taskboundSpoke object in cdk.json)`,
    ]);
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new ConfigError([`taskboundSpoke: not JSON (${(error as Error).message}); write it as ${SPOKE_CONTEXT_EXAMPLE}`]);
  }
}

/** Builds a spoke stack for each account the policy names; `cdk deploy <Stack>` with that account's credentials. */
export function buildSpokeApp(options: { readonly app?: App; readonly root?: string } = {}): {
  readonly app: App;
  readonly spokes: readonly SpokeStack[];
} {
  const app = options.app ?? new App();
  const config = loadConfig(app.node.getAllContext());
  const parsed = spokeContextSchema.safeParse(spokeContext(app.node.tryGetContext('taskboundSpoke')));
  if (!parsed.success)
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${['taskboundSpoke', ...issue.path.map(String)].join('.')}: ${issue.message}`),
    );
  const { policy } = loadPolicyFile(config.policyFile, options.root ?? PROJECT_ROOT);
  const named = accountsNamed(policy);
  // Without this, `cdk deploy TaskboundSpoke<account>` answers only that no stack matches.
  if (named.length === 0)
    throw new ConfigError([
      `policyFile: ${config.policyFile} names no account (a scope's or agent's \`account:\`), so there is no spoke to deploy: ` +
        'synthesize with the policy file the hub was deployed with (-c taskbound:policyFile=FILE)',
    ]);
  const unknown = (parsed.data.accounts ?? []).filter((account) => !named.includes(account));
  if (unknown.length > 0)
    throw new ConfigError([`taskboundSpoke.accounts: ${unknown.join(', ')} not named by the policy; a spoke there would never be used`]);
  const spokes = (parsed.data.accounts ?? named).map(
    (account) =>
      new SpokeStack(app, `${pascal(config.instanceName)}Spoke${account}`, {
        env: { account },
        // A StackSet instance runs in accounts never CDK-bootstrapped: the default rule would read the
        // bootstrap's SSM parameter there and fail. The spoke has no assets, and `cdk deploy` checks
        // the bootstrap version itself, so nothing needs the rule.
        synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
        config,
        policy,
        spokeAccount: account,
        hubEngineRoleArns: parsed.data.hubEngineRoleArns,
        description: `Taskbound spoke for account ${account}: agent roles, issued-credential boundary, the engine role the hub assumes`,
      }),
  );
  for (const spoke of spokes) acknowledgeSpokeWildcards(spoke, config, policy.source);
  Tags.of(app).add('taskbound:component', 'spoke');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, spokes };
}

/** Each wildcard a spoke holds, and why it is as narrow as IAM allows. Anything else fails synth. */
function acknowledgeSpokeWildcards(spoke: SpokeStack, config: TaskboundConfig, policySource: string): void {
  const iamWildcard = (role: IConstruct, resource: string, reason: string) =>
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:${resource}]`,
      reason,
    });
  iamWildcard(
    spoke.engineRole,
    `role/${config.agentRolePrefix}*`,
    'Agent roles are named <agentRolePrefix><agentId>; assuming them also requires the taskbound:managed tag, and the revoked-sessions deny may go only on roles carrying the spoke boundary.',
  );
  iamWildcard(
    spoke.engineRole,
    'user/taskbound/*',
    'One IAM user per access-key grant, named at issue time; confined to path /taskbound/, and creation requires the spoke permissions boundary.',
  );
  iamWildcard(
    spoke.proverRole,
    `role/${config.agentRolePrefix}*`,
    'Agent roles are named <agentRolePrefix><agentId>; the prover only reads their revoked-sessions deny (iam:GetRolePolicy).',
  );
  iamWildcard(
    spoke.proverRole,
    'user/taskbound/*',
    'Issued users are named per grant under /taskbound/; the prover only lists their keys (iam:ListAccessKeys).',
  );
  Validations.of(spoke.engineRole).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: `${ANY_RESOURCE_REASONS.listUsers} ${ANY_RESOURCE_REASONS.lookupEvents}`,
  });
  // The boundary and the agents' scope policies copy the account's scopes: their wildcards are the policy file's.
  const copied = `Copied from a scope in ${policySource}: the boundary and agent policies are the scopes of this account, the most an issued credential may do.`;
  acknowledgeCopiedWildcards(spoke, spoke.boundaryStatements, copied);
}
