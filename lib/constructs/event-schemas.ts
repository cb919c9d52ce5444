// CDK construct: the contract's events (docs/contract.md §1-§2) in an EventBridge Schema Registry,
// as JSON Schema draft 4, so agent teams can generate bindings. Inbound schemas are generated
// from the zod schemas the handlers validate with, so the published shape is the enforced one.
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import { Construct } from 'constructs';
import { z } from 'zod';
import {
  agentStatusSchema,
  credentialLeakedSchema,
  grantDecisionSchema,
  INBOUND,
  manualRevokeSchema,
  OUTBOUND_TYPES,
  taskEndedSchema,
  taskStartedSchema,
} from '../../lambdas/domain/events';
import { ENGINE_SOURCE } from '../naming';

type JsonSchema = Record<string, unknown>;

const INBOUND_DETAILS: readonly (readonly [string, z.ZodType])[] = [
  [INBOUND.taskStarted, taskStartedSchema],
  [INBOUND.taskEnded, taskEndedSchema],
  [INBOUND.grantDecision, grantDecisionSchema],
  [INBOUND.credentialLeaked, credentialLeakedSchema],
  [INBOUND.agentSuspended, agentStatusSchema],
  [INBOUND.agentResumed, agentStatusSchema],
  [INBOUND.revokeRequested, manualRevokeSchema],
];

const string: JsonSchema = { type: 'string' };

/** Outbound detail (OutboundDetail in lambdas/domain/events.ts): identifiers and reasons, never secrets. */
const OUTBOUND_DETAIL: JsonSchema = {
  type: 'object',
  required: ['grantId', 'taskId', 'agentId', 'at'],
  properties: {
    grantId: string,
    taskId: string,
    agentId: string,
    at: { type: 'string', format: 'date-time' },
    state: string,
    reason: string,
    trigger: string,
    scopes: { type: 'array', items: string },
    owner: string,
    requestedBy: string,
    purpose: string,
    credentialKind: { type: 'string', enum: ['aws-sts-session', 'aws-iam-access-key'] },
    credentialId: string,
    expiresAt: { type: 'string', format: 'date-time' },
    ttlSeconds: { type: 'integer' },
    requiredApprovals: { type: 'integer' },
    approvers: { type: 'array', items: string },
    stillValidAfterNoticeMs: { type: 'number' },
    revocations: {
      type: 'object',
      properties: {
        grants: { type: 'integer' },
        verified: { type: 'integer' },
        awaitingProof: { type: 'integer' },
        failed: { type: 'integer' },
        closedOtherwise: { type: 'integer' },
        elapsedMs: { type: 'number' },
      },
    },
  },
};

/** A detail JSON Schema without its own `$schema`, ready to nest in an envelope. */
export function detailSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _draft, ...detail } = z.toJSONSchema(schema, { target: 'draft-04', io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return detail;
}

/** The whole EventBridge event around a detail schema. */
export function envelopeSchema(detailType: string, detail: JsonSchema, source?: string): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: detailType,
    type: 'object',
    required: ['detail-type', 'source', 'detail'],
    properties: {
      version: string,
      id: string,
      'detail-type': { type: 'string', enum: [detailType] },
      source: source ? { type: 'string', enum: [source] } : string,
      account: string,
      time: { type: 'string', format: 'date-time' },
      region: string,
      resources: { type: 'array', items: string },
      detail,
    },
  };
}

/** Every schema the registry publishes, by schema name. */
export function contractSchemas(): Readonly<Record<string, JsonSchema>> {
  const named = (detailType: string) => `taskbound@${detailType.replace(/ /g, '')}`;
  return Object.fromEntries([
    ...INBOUND_DETAILS.map(([detailType, schema]) => [named(detailType), envelopeSchema(detailType, detailSchemaOf(schema))]),
    ...OUTBOUND_TYPES.map((detailType) => [named(detailType), envelopeSchema(detailType, OUTBOUND_DETAIL, ENGINE_SOURCE)]),
  ]);
}

export class EventSchemas extends Construct {
  readonly registry: eventschemas.CfnRegistry;

  constructor(scope: Construct, id: string, props: { readonly registryName: string }) {
    super(scope, id);
    this.registry = new eventschemas.CfnRegistry(this, 'Registry', {
      registryName: props.registryName,
      description: 'Taskbound events: what agents send and what the engine publishes',
    });
    for (const [schemaName, content] of Object.entries(contractSchemas())) {
      new eventschemas.CfnSchema(this, schemaName.replace(/@/, '-'), {
        registryName: this.registry.attrRegistryName,
        schemaName,
        type: 'JSONSchemaDraft4',
        content: JSON.stringify(content),
      });
    }
  }
}
