// CDK construct: the grants table, declared from the same CreateTable input the store and
// the local engine use (lambdas/adapters/aws/grant-table-definition.ts), plus what only AWS
// has: TTL, the stream the expiry backstop reads, backups and deletion protection.
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { grantTableCreateInput } from '../../lambdas/adapters/aws/grant-table-definition';
import { GRANT_TABLE } from '../../lambdas/adapters/aws/grant-table';

export interface GrantTableProps {
  readonly removalPolicy: RemovalPolicy;
}

const ATTRIBUTE_TYPES: Readonly<Record<string, dynamodb.AttributeType>> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

const PROJECTIONS: Readonly<Record<string, dynamodb.ProjectionType>> = {
  ALL: dynamodb.ProjectionType.ALL,
  KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
};

function attribute(definition: ReturnType<typeof grantTableCreateInput>, name: string | undefined): dynamodb.Attribute {
  const found = definition.AttributeDefinitions?.find((candidate) => candidate.AttributeName === name);
  const type = found?.AttributeType ? ATTRIBUTE_TYPES[found.AttributeType] : undefined;
  if (!found?.AttributeName || !type) throw new Error(`grant table definition lacks attribute ${String(name)}`);
  return { name: found.AttributeName, type };
}

/** On-demand, point-in-time recovery, deletion protection, TTL and a NEW_AND_OLD_IMAGES stream. */
export class GrantTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: GrantTableProps) {
    super(scope, id);
    const definition = grantTableCreateInput('grants');
    const keyOf = (schema: readonly { AttributeName?: string; KeyType?: string }[] | undefined, type: 'HASH' | 'RANGE') =>
      schema?.find((key) => key.KeyType === type)?.AttributeName;
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: attribute(definition, keyOf(definition.KeySchema, 'HASH')),
      sortKey: attribute(definition, keyOf(definition.KeySchema, 'RANGE')),
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: GRANT_TABLE.ttlAttribute,
      dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: props.removalPolicy,
      globalSecondaryIndexes: (definition.GlobalSecondaryIndexes ?? []).map((index) => {
        const sortKey = keyOf(index.KeySchema, 'RANGE');
        const projectionType = PROJECTIONS[index.Projection?.ProjectionType ?? 'ALL'];
        if (!index.IndexName || !projectionType) throw new Error('grant table definition has an unnamed or unprojected index');
        return {
          indexName: index.IndexName,
          partitionKey: attribute(definition, keyOf(index.KeySchema, 'HASH')),
          ...(sortKey ? { sortKey: attribute(definition, sortKey) } : {}),
          projectionType,
        };
      }),
    });
  }
}
