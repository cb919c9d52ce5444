// CDK review: every cdk-nag AwsSolutions finding the engine accepts, each with the reason a
// reviewer would need. Anything not acknowledged here fails `cdk synth` and the nag test.
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { listOf } from '../lambdas/domain/privilege';
import type { Policy, PolicyStatement } from '../lambdas/domain/policy';
import type { EngineHandler } from './bundling';
import type { TaskboundFunction } from './constructs/taskbound-function';
import type { TaskboundConfig } from './config';
import { schedulerGroupName, stackSuffix } from './naming';
import { ISSUING, isOneOf, REVOKING, type EngineStack } from './stacks/engine-stack';
import type { StatefulStack } from './stacks/stateful-stack';

const IAM5 = 'AwsSolutions-IAM5';

/** The wildcard resources each kind of engine role holds, and why each is as narrow as IAM allows. */
function engineWildcards(
  config: TaskboundConfig,
  engine: EngineStack,
): Record<'secrets' | 'schedules' | 'users' | 'roles', { readonly resource: string; readonly reason: string }> {
  const arn = (service: string, rest: string, regional = true) =>
    `arn:<AWS::Partition>:${service}:${regional ? '<AWS::Region>' : ''}:<AWS::AccountId>:${rest}`;
  return {
    secrets: {
      resource: arn('secretsmanager', 'secret:taskbound/*'),
      reason:
        'Delivery secrets are named taskbound/<agentId>/<taskId> per task (docs/contract.md §5); their names are not known before the task starts.',
    },
    schedules: {
      // The group's generated name, as cdk-nag prints it: the base, then the stack suffix's intrinsic.
      resource: arn('scheduler', `schedule/${schedulerGroupName(config)}-${JSON.stringify(engine.resolve(stackSuffix(engine)))}/*`),
      reason: "One expiry schedule per grant, created at issue time; confined to the engine's own schedule group.",
    },
    users: {
      resource: arn('iam', 'user/taskbound/*', false),
      reason:
        'One IAM user per access-key grant, named at issue time; confined to path /taskbound/, and creation requires the permissions boundary (iam:PermissionsBoundary condition).',
    },
    roles: {
      resource: arn('iam', `role/${config.agentRolePrefix}*`, false),
      reason:
        'Per-agent roles by naming convention; AssumeRole also requires the taskbound:managed=true tag and PutRolePolicy requires the permissions boundary on the role.',
    },
  };
}

/** Why each action that takes no resource holds `*` (the spoke engine role lists users too). */
export const ANY_RESOURCE_REASONS: Readonly<Record<'tracing' | 'listSecrets' | 'batchReadSecrets' | 'lookupEvents' | 'listUsers', string>> =
  {
    lookupEvents:
      'cloudtrail:LookupEvents supports no resource-level permissions; the sweep looks up only the access key ids of revoked grants.',
    tracing: 'xray:PutTraceSegments and xray:PutTelemetryRecords (added by Lambda active tracing) support no resource-level permissions.',
    listSecrets:
      'secretsmanager:ListSecrets supports no resource-level permissions; the sweep lists only the taskbound/ prefix to find orphaned deliveries.',
    batchReadSecrets:
      'secretsmanager:BatchGetSecretValue supports no resource-level permissions; it returns only the secrets GetSecretValue is allowed on (taskbound/* alone), for the kill switch reading deliveries 20 at a time.',
    listUsers:
      'iam:ListUsers takes no resource (the Service Authorization Reference lists none); the sweep lists only the /taskbound/ path.',
  };

function acknowledge(scope: IConstruct, finding: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `${IAM5}[${finding}]`, reason });
}

/** Acknowledges the accepted findings on the engine's roles and on the issued-credential boundary. */
export function applyNagSuppressions(props: {
  readonly config: TaskboundConfig;
  readonly policy: Policy;
  readonly stateful: StatefulStack;
  readonly engine: EngineStack;
}): void {
  const wildcards = engineWildcards(props.config, props.engine);
  const operator = props.engine.operatorEndpoint.function;
  const functions = { ...props.engine.functions, ...(operator ? { 'operator-api': operator } : {}) };
  for (const [handler, fn] of Object.entries(functions) as [EngineHandler, TaskboundFunction][]) {
    const role = fn.engineRole;
    const anyResource = [ANY_RESOURCE_REASONS.tracing];
    if (isOneOf(ISSUING, handler) || isOneOf(REVOKING, handler)) {
      for (const key of ['secrets', 'schedules', 'users', 'roles'] as const)
        acknowledge(role, `Resource::${wildcards[key].resource}`, wildcards[key].reason);
    }
    // prove-revocation lists nothing and reads deliveries one at a time (engine-permissions.ts, destroyDeliveries).
    if (isOneOf(REVOKING, handler) && handler !== 'prove-revocation')
      anyResource.push(ANY_RESOURCE_REASONS.listSecrets, ANY_RESOURCE_REASONS.batchReadSecrets, ANY_RESOURCE_REASONS.listUsers);
    if (handler === 'sweep') anyResource.push(ANY_RESOURCE_REASONS.lookupEvents);
    acknowledge(role, 'Resource::*', anyResource.join(' '));
  }

  // The boundary's content is the policy file's: it is the ceiling for issued credentials, not a grant to the engine.
  const { policy: boundary, statements } = props.stateful.boundary;
  acknowledgeCopiedWildcards(
    boundary,
    statements,
    `Copied from a scope in ${props.policy.source}: the boundary is the union of the scopes, the most an issued credential may do.`,
  );
}

/**
 * Acknowledges each wildcard action and resource of `statements`' Allows (the only ones IAM5
 * reads) on `scope`: statements copied from the policy file, whose wildcards are the file's.
 */
export function acknowledgeCopiedWildcards(scope: IConstruct, statements: readonly PolicyStatement[], reason: string): void {
  for (const statement of statements.filter((candidate) => candidate.Effect === 'Allow')) {
    for (const action of listOf(statement.Action).filter((value) => value.includes('*'))) acknowledge(scope, `Action::${action}`, reason);
    for (const resource of listOf(statement.Resource).filter((value) => value.includes('*')))
      acknowledge(scope, `Resource::${resource}`, reason);
  }
}
