// CDK construct: the key every delivery is encrypted with. Its policy is the delivery's first lock:
// only the engine's roles and, for each agent, its runtime principal (that agent's secrets only) may
// use it, and the account may administer it but not use it. CDK's default key policy gives the
// account `kms:*`, which hands the decision to IAM: any principal whose identity policy allows
// `kms:Decrypt` and `secretsmanager:GetSecretValue` (an administrator, `PowerUserAccess`) could then
// read a delivery its resource policy does not refuse yet. With this one, a delivery can be created
// with its value and locked by its resource policy next (secrets-manager-delivery-vault.ts,
// `keyPolicyLocksValue`): in between, nobody else can decrypt it.
import { Aws, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { Policy } from '../../lambdas/domain/policy';
import { agentsByRuntime } from './delivery-table';

/**
 * What the account keeps: administering the key (its policy, rotation, deletion, aliases, tags),
 * never using it. No Encrypt, Decrypt, ReEncrypt, GenerateDataKey, and no CreateGrant (a grant
 * hands out those). Whoever may `kms:PutKeyPolicy` can still give themselves the rest, as whoever
 * may `secretsmanager:PutResourcePolicy` can open a delivery: both are administrators' powers.
 */
export const KEY_ADMINISTRATION = [
  'kms:Describe*',
  'kms:List*',
  'kms:Get*',
  'kms:Enable*',
  'kms:Disable*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:RotateKeyOnDemand',
];

export interface DeliveryKeyProps {
  readonly policy: Policy;
  readonly removalPolicy: RemovalPolicy;
  /** The engine roles (exact ARNs): the only principals besides the runtimes that may use the key. */
  readonly engineRoleArns: readonly string[];
  /** `taskbound/*` secrets of this stack's account and region, as an ARN pattern. */
  readonly deliverySecretArnPattern: string;
}

/** The key, as `id` in `scope` (a function, not a construct of its own: the key's logical id stays what deployed stacks have). */
export function createDeliveryKey(scope: Construct, id: string, props: DeliveryKeyProps): kms.Key {
  const viaSecretsManager = { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` };
  const statements = [
    new iam.PolicyStatement({
      sid: 'AccountAdministersTheKeyNeverUsesIt',
      principals: [new iam.AccountRootPrincipal()],
      actions: KEY_ADMINISTRATION,
      resources: ['*'],
    }),
    // The engine's roles, each as its own identity policy allows (the issuing ones encrypt, the
    // revoking ones decrypt, through Secrets Manager or under a delivery item's context): the
    // account's delegation to IAM, narrowed to them.
    new iam.PolicyStatement({
      sid: 'EngineRolesUseItAsTheirPoliciesAllow',
      principals: [new iam.AccountRootPrincipal()],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:Encrypt'],
      resources: ['*'],
      conditions: { ArnEquals: { 'aws:PrincipalArn': [...props.engineRoleArns] } },
    }),
    // Principal * with aws:PrincipalArn: a key policy naming a principal that does not exist
    // yet fails to deploy, and runtimes are often created after the engine.
    // Each runtime its own agents' secrets: `taskbound/<agentId>/` (an agent id never holds `/`).
    ...[...agentsByRuntime(props.policy)].map(
      ([runtime, agents], index) =>
        new iam.PolicyStatement({
          sid: `RuntimeDecryptsItsAgentsDeliveries${index}`,
          principals: [new iam.AnyPrincipal()],
          actions: ['kms:Decrypt'],
          resources: ['*'],
          conditions: {
            ArnEquals: { 'aws:PrincipalArn': runtime },
            StringEquals: viaSecretsManager,
            StringLike: {
              'kms:EncryptionContext:SecretARN': agents.map((agentId) => agentSecretArnPattern(props.deliverySecretArnPattern, agentId)),
            },
          },
        }),
    ),
  ];
  return new kms.Key(scope, id, {
    description: 'Taskbound: encrypts the delivery secrets taskbound/<agentId>/<taskId>',
    enableKeyRotation: true,
    removalPolicy: props.removalPolicy,
    // Replaces CDK's default (the account's kms:*), not added to it.
    policy: new iam.PolicyDocument({ statements }),
  });
}

/** `…:secret:taskbound/*` narrowed to one agent's secrets, `…:secret:taskbound/<agentId>/*`. */
function agentSecretArnPattern(deliverySecretArnPattern: string, agentId: string): string {
  return `${deliverySecretArnPattern.slice(0, -1)}${agentId}/*`;
}
