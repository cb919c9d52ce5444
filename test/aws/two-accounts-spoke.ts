// Test tier (AWS emulator, two accounts): a member account set up in moto from the spoke stack
// itself. lib/stacks/spoke-stack.ts is synthesized for the account and each resource of its
// template is created as CloudFormation would (roles, managed policies, the engine role's
// policy, the canary secret); a resource type this does not know fails the setup, so the
// spoke cannot grow something the tier silently leaves out.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttachRolePolicyCommand, CreatePolicyCommand, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { Policy } from '../../lambdas/domain/policy';
import { loadConfig } from '../../lib/config';
import { SpokeStack } from '../../lib/stacks/spoke-stack';
import { CfnResolver, type CfnTemplate } from '../policy/cfn';
import { asMotoEvaluates, type SpokeSetup } from './moto-world';

type Json = Record<string, unknown>;
interface Statement {
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: unknown;
}

/** The hub engine function role a deployed spoke trusts (moto does not evaluate trust policies; the IAM-evaluator tier does). */
const HUB_ENGINE_ROLE = 'arn:aws:iam::111122223333:role/taskbound-engine/taskbound-task-started-us-east-1';

/** The spoke stack's template for `account`, with the account's own id where CloudFormation would put it. */
export function spokeTemplate(policy: Policy, account: string): CfnTemplate {
  const app = new App();
  const stack = new SpokeStack(app, 'Spoke', {
    env: { account, region: 'us-east-1' },
    config: loadConfig({}),
    policy,
    spokeAccount: account,
    hubEngineRoleArns: [HUB_ENGINE_ROLE],
  });
  const json = JSON.stringify(Template.fromStack(stack).toJSON());
  return JSON.parse(json.replaceAll('{"Ref":"AWS::AccountId"}', JSON.stringify(account))) as CfnTemplate;
}

const asList = (value: string | string[] | undefined) => (value === undefined ? [] : [value].flat());

/**
 * moto checks a role's trust on AssumeRole but matches the principal literally: a role ARN
 * never matches that role's own sessions (as it does on AWS), and it skips StringLike. So a
 * role principal becomes `*` here; the template's trust is proven by the IAM-evaluator tier.
 */
function asMotoTrusts(document: { Statement: Array<Json & { Principal?: { AWS?: string | string[] } }> }): object {
  const isRole = (arn: string) => /^arn:aws:iam::\d{12}:role\//.test(arn);
  return {
    ...document,
    Statement: document.Statement.map((statement) =>
      asList(statement.Principal?.AWS).some(isRole) ? { ...statement, Principal: { AWS: '*' } } : statement,
    ),
  };
}

/** Creates the spoke stack's resources in the account moto's setup clients act in. */
export function spokeFromStack(policy: Policy, account: string): SpokeSetup {
  return async (setup) => {
    const template = spokeTemplate(policy, account);
    const resources = Object.entries(template.Resources);
    const known = new Set([
      'AWS::IAM::ManagedPolicy',
      'AWS::IAM::Role',
      'AWS::IAM::Policy',
      'AWS::SecretsManager::Secret',
      'AWS::CDK::Metadata',
    ]);
    const unknown = resources.filter(([, resource]) => !known.has(resource.Type)).map(([id, resource]) => `${id} (${resource.Type})`);
    if (unknown.length > 0) throw new Error(`the spoke stack holds resources the emulator tier does not create: ${unknown.join(', ')}`);
    const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);
    const resolver = new CfnResolver([template]);
    const resolved = (value: unknown) => resolver.resolve(template, value) as Json;

    // Managed policies first: roles name them. moto names each ARN; a Ref to one becomes its ARN.
    const policyArns = new Map<string, string>();
    for (const [id, resource] of ofType('AWS::IAM::ManagedPolicy')) {
      const props = resolved(resource.Properties);
      const boundary = typeof props.ManagedPolicyName === 'string';
      const document = props.PolicyDocument as { Statement: Statement[] };
      // The boundary is kept whole (moto does not evaluate boundaries); an agent role's policy is what moto checks.
      const created = await setup.iam.send(
        new CreatePolicyCommand({
          PolicyName: boundary ? String(props.ManagedPolicyName) : id,
          Path: String(props.Path ?? '/'),
          PolicyDocument: JSON.stringify(boundary ? document : asMotoEvaluates(document)),
        }),
      );
      policyArns.set(id, created.Policy?.Arn ?? '');
    }
    const arnOf = (value: unknown) => {
      const ref = (value as { Ref?: string }).Ref;
      const arn = ref ? policyArns.get(ref) : undefined;
      if (!arn) throw new Error(`a role names a managed policy the spoke does not create: ${JSON.stringify(value)}`);
      return arn;
    };

    for (const [, resource] of ofType('AWS::IAM::Role')) {
      const { PermissionsBoundary, ManagedPolicyArns, ...rest } = resource.Properties ?? {};
      const props = resolved(rest);
      const roleName = String(props.RoleName);
      await setup.iam.send(
        new CreateRoleCommand({
          RoleName: roleName,
          AssumeRolePolicyDocument: JSON.stringify(asMotoTrusts(props.AssumeRolePolicyDocument as Parameters<typeof asMotoTrusts>[0])),
          ...(props.Description ? { Description: String(props.Description) } : {}),
          ...(props.MaxSessionDuration ? { MaxSessionDuration: Number(props.MaxSessionDuration) } : {}),
          ...(PermissionsBoundary ? { PermissionsBoundary: arnOf(PermissionsBoundary) } : {}),
          ...(props.Tags ? { Tags: props.Tags as Array<{ Key: string; Value: string }> } : {}),
        }),
      );
      for (const managed of (ManagedPolicyArns as unknown[] | undefined) ?? []) {
        await setup.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: arnOf(managed) }));
      }
    }

    for (const [, resource] of ofType('AWS::IAM::Policy')) {
      const props = resolved(resource.Properties);
      for (const roleName of props.Roles as string[]) {
        await setup.iam.send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: String(props.PolicyName),
            PolicyDocument: JSON.stringify(asMotoEvaluates(props.PolicyDocument as { Statement: Statement[] })),
          }),
        );
      }
    }

    for (const [, resource] of ofType('AWS::SecretsManager::Secret')) {
      const props = resolved(resource.Properties);
      await setup.secrets.send(
        new CreateSecretCommand({
          Name: String(props.Name),
          SecretString: String(props.SecretString),
          Description: String(props.Description ?? ''),
        }),
      );
    }
  };
}
