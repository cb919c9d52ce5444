// Policy tier helper: synthesizes the Taskbound app for a given CDK context and hands out
// its IAM documents, resolved to concrete JSON: each engine role's policies, the bus policy,
// the delivery key policy and the issued-credential boundary.
import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { EngineHandler } from '../../lib/bundling';
import { buildTaskboundApp } from '../../lib/taskbound-app';
import { CfnResolver, REGION, STACK_SUFFIX, type CfnTemplate } from './cfn';

type Document = Record<string, unknown>;

export interface SynthesizedPolicies {
  readonly roleArnOf: (handler: EngineHandler) => string;
  /** Every identity policy attached to the handler's role. */
  readonly identityOf: (handler: EngineHandler) => Document[];
  /** Every identity policy, and the trust policy, of the role with this exact name (scheduler role included). */
  readonly roleNamed: (roleName: string) => { readonly arn: string; readonly identity: Document[]; readonly trust: Document };
  readonly busPolicy: Document;
  readonly busArn: string;
  readonly keyPolicy: Document;
  readonly keyArn: string;
  readonly boundary: Document;
  readonly boundaryArn: string;
  readonly slackSecretArn: string;
  readonly tableArn: string;
  /** The `dynamodb-kms` delivery mode's table and its resource policy, when the context asks for that mode. */
  readonly deliveryTable?: { readonly arn: string; readonly policy: Document };
}

const synthesized = new Map<string, SynthesizedPolicies>();

/** Synthesizes once per context (per test file), with inline code in place of bundles. */
export function synthesizedPolicies(context: Record<string, unknown>): SynthesizedPolicies {
  const cacheKey = JSON.stringify(context);
  const cached = synthesized.get(cacheKey);
  if (cached) return cached;
  const built = buildTaskboundApp({
    app: new App({ context: { taskbound: context } }),
    codeFor: () => lambda.Code.fromInline('export const handler = async () => ({});'),
  });
  const assembly = built.app.synth();
  const state = assembly.getStackByName(built.stateful.stackName).template as CfnTemplate;
  const engine = assembly.getStackByName(built.engine.stackName).template as CfnTemplate;
  const resolver = new CfnResolver([state, engine]);
  const only = (template: CfnTemplate, type: string) => {
    const found = Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return found[0]!;
  };

  const roleIdNamed = (name: string) => {
    const found = Object.entries(engine.Resources).find(
      ([, resource]) => resource.Type === 'AWS::IAM::Role' && resolver.resolve(engine, resource.Properties?.RoleName) === name,
    );
    if (!found) throw new Error(`no engine role named ${name}`);
    return found[0];
  };
  const roleIdOf = (handler: EngineHandler) => roleIdNamed(`${built.config.instanceName}-${handler}-${REGION}`);
  const identityOfRole = (roleId: string) =>
    Object.values(engine.Resources)
      .filter(
        (resource) =>
          resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]),
      )
      .map((resource) => resolver.resolve(engine, resource.Properties?.PolicyDocument) as Document);
  const identityOf = (handler: EngineHandler) => identityOfRole(roleIdOf(handler));
  const busStatements = Object.values(state.Resources)
    .filter((resource) => resource.Type === 'AWS::Events::EventBusPolicy')
    .map((resource) => resolver.resolve(state, resource.Properties?.Statement));
  const [busId] = only(state, 'AWS::Events::EventBus');
  const [keyId, key] = only(state, 'AWS::KMS::Key');
  const [boundaryId, boundary] = only(state, 'AWS::IAM::ManagedPolicy');
  const slackEntry = Object.entries(state.Resources).find(
    ([, resource]) =>
      resource.Type === 'AWS::SecretsManager::Secret' &&
      resolver.resolve(state, resource.Properties?.Name) === `${built.config.slackSecretName}-${STACK_SUFFIX}`,
  );
  if (!slackEntry) throw new Error(`no Slack secret named ${built.config.slackSecretName}-${STACK_SUFFIX}`);
  const [slackId] = slackEntry;
  const [tableId] = only(state, 'AWS::DynamoDB::GlobalTable');
  const deliveryTables = Object.entries(state.Resources).filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table');
  if (deliveryTables.length > 1) throw new Error(`expected at most one delivery table, found ${deliveryTables.length}`);
  const [deliveryTableId, deliveryTable] = deliveryTables[0] ?? [];
  const policies: SynthesizedPolicies = {
    roleArnOf: (handler) => resolver.resolve(engine, { 'Fn::GetAtt': [roleIdOf(handler), 'Arn'] }) as string,
    identityOf,
    roleNamed: (roleName) => {
      const roleId = roleIdNamed(roleName);
      return {
        arn: resolver.resolve(engine, { 'Fn::GetAtt': [roleId, 'Arn'] }) as string,
        identity: identityOfRole(roleId),
        trust: resolver.resolve(engine, engine.Resources[roleId]!.Properties?.AssumeRolePolicyDocument) as Document,
      };
    },
    busPolicy: { Version: '2012-10-17', Statement: busStatements },
    busArn: resolver.resolve(state, { 'Fn::GetAtt': [busId, 'Arn'] }) as string,
    keyPolicy: resolver.resolve(state, key.Properties?.KeyPolicy) as Document,
    keyArn: resolver.resolve(state, { 'Fn::GetAtt': [keyId, 'Arn'] }) as string,
    boundary: resolver.resolve(state, boundary.Properties?.PolicyDocument) as Document,
    boundaryArn: resolver.resolve(state, { Ref: boundaryId }) as string,
    slackSecretArn: resolver.resolve(state, { Ref: slackId }) as string,
    tableArn: resolver.resolve(state, { 'Fn::GetAtt': [tableId, 'Arn'] }) as string,
    ...(deliveryTableId && deliveryTable
      ? {
          deliveryTable: {
            arn: resolver.resolve(state, { 'Fn::GetAtt': [deliveryTableId, 'Arn'] }) as string,
            policy: resolver.resolve(
              state,
              (deliveryTable.Properties?.ResourcePolicy as { PolicyDocument?: unknown } | undefined)?.PolicyDocument,
            ) as Document,
          },
        }
      : {}),
  };
  synthesized.set(cacheKey, policies);
  return policies;
}
