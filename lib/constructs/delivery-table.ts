// CDK construct: the `dynamodb-kms` delivery mode (docs/scale.md §8). A delivery table keyed by
// agent and task, whose resource policy lets each runtime principal read only its agents'
// partitions (`dynamodb:LeadingKeys`); the delivery key's statement letting each runtime decrypt
// only under its agents' encryption context; and the engine's capabilities over both.
import { Validations, type RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { DELIVERY_CONTEXT_KEYS, DELIVERY_ITEM } from '../../lambdas/domain/delivery-item';
import type { Policy } from '../../lambdas/domain/policy';

/** Each runtime principal and the agents it runs (several agents may share one runtime role). */
export function agentsByRuntime(policy: Policy): ReadonlyMap<string, readonly string[]> {
  const byRuntime = new Map<string, string[]>();
  for (const [agentId, agent] of Object.entries(policy.agents).sort(([a], [b]) => a.localeCompare(b))) {
    byRuntime.set(agent.runtimePrincipal, [...(byRuntime.get(agent.runtimePrincipal) ?? []), agentId]);
  }
  return new Map([...byRuntime].sort(([a], [b]) => a.localeCompare(b)));
}

/** What changes a delivery item: only the engine's roles may. */
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

export interface DeliveryTableProps {
  readonly policy: Policy;
  readonly removalPolicy: RemovalPolicy;
  /** The engine roles that issue and revoke (exact ARNs): the only writers. */
  readonly engineRoleArns: readonly string[];
}

/**
 * The delivery table: on-demand, TTL on `expiresAtEpoch` (a backstop: revocation deletes each item).
 * Principal `*` with `aws:PrincipalArn`: a resource policy naming a principal that does not exist
 * yet fails to deploy, and runtimes are often created after the engine.
 */
export class DeliveryTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DeliveryTableProps) {
    super(scope, id);
    const statements = [...agentsByRuntime(props.policy)].map(
      ([runtime, agents], index) =>
        new iam.PolicyStatement({
          sid: `RuntimeReadsItsAgents${index}`,
          principals: [new iam.AnyPrincipal()],
          actions: ['dynamodb:GetItem'],
          resources: ['*'],
          conditions: {
            ArnEquals: { 'aws:PrincipalArn': runtime },
            'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...agents] },
          },
        }),
    );
    statements.push(
      new iam.PolicyStatement({
        sid: 'OnlyTheEngineWrites',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: WRITE_ACTIONS,
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': [...props.engineRoleArns] } },
      }),
    );
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: DELIVERY_ITEM.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: DELIVERY_ITEM.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: DELIVERY_ITEM.ttl,
      removalPolicy: props.removalPolicy,
      resourcePolicy: new iam.PolicyDocument({ statements }),
    });
    Validations.of(this.table).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Items live for one task and hold a KMS-encrypted credential: a point-in-time backup would keep them readable for 35 days after revocation.',
    });
  }
}

/** The delivery key's statement: each runtime decrypts directly (not via a service), only under its agents' context. */
export function runtimesDecryptTheirItems(policy: Policy): iam.PolicyStatement[] {
  return [...agentsByRuntime(policy)].map(
    ([runtime, agents], index) =>
      new iam.PolicyStatement({
        sid: `RuntimeDecryptsItsAgentsItems${index}`,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: {
          ArnEquals: { 'aws:PrincipalArn': runtime },
          StringEquals: { [`kms:EncryptionContext:${DELIVERY_CONTEXT_KEYS.agentId}`]: [...agents] },
        },
      }),
  );
}

/** Only deliveries: a context that names an agent (the issuer sets agent, task and grant). */
const deliveryContext = { StringLike: { [`kms:EncryptionContext:${DELIVERY_CONTEXT_KEYS.agentId}`]: '*' } };

/** Issuing (and writing `denied`): encrypt under a delivery context, put the item. */
export function writeDeliveryItems(table: dynamodb.ITable, key: kms.IKey): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ sid: 'EncryptDeliveries', actions: ['kms:Encrypt'], resources: [key.keyArn], conditions: deliveryContext }),
    new iam.PolicyStatement({ sid: 'PutDeliveryItems', actions: ['dynamodb:PutItem'], resources: [table.tableArn] }),
  ];
}

/**
 * Revoking: read the credential back to prove it dead (an access key is probed by signing with
 * it), delete the item, list items for orphan reconciliation.
 */
export function revokeDeliveryItems(table: dynamodb.ITable, key: kms.IKey): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ sid: 'DecryptDeliveries', actions: ['kms:Decrypt'], resources: [key.keyArn], conditions: deliveryContext }),
    new iam.PolicyStatement({
      sid: 'ReadAndDeleteDeliveryItems',
      actions: ['dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:Scan'],
      resources: [table.tableArn],
    }),
  ];
}
