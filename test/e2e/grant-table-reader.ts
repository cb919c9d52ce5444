// Test helpers (e2e): the grant table read from outside the engine, through its DynamoDB
// endpoint with the engine's own store code, as the CLI reads it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbGrantStore } from '../../lambdas/adapters/aws/dynamodb-grant-store';
import { LOCAL_TABLE } from '../../lambdas/local/engine';
import { localClientConfig } from '../../lambdas/local/host/sdk-clients';
import { grantIdFor } from '../../lambdas/domain/ids';
import type { Grant, GrantState } from '../../lambdas/domain/grant';
import { expect } from 'vitest';
import type { AgentRuntime, Delivery } from '../helpers/agent-runtime';

export interface GrantTableReader {
  get(agentId: string, taskId: string): Promise<Grant | undefined>;
  /** Polls until the task's grant is in one of `states`; throws naming the state it is in. */
  waitFor(agentId: string, taskId: string, states: readonly GrantState[], timeoutMs?: number): Promise<Grant>;
  close(): void;
}

export function readGrantTable(engineUrl: string): GrantTableReader {
  const dynamo = new DynamoDBClient(localClientConfig(engineUrl));
  const store = new DynamoDbGrantStore({ client: dynamo, tableName: LOCAL_TABLE });
  const get = (agentId: string, taskId: string) => store.get(grantIdFor(agentId, taskId));
  return {
    get,
    async waitFor(agentId, taskId, states, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const grant = await get(agentId, taskId);
        if (grant && states.includes(grant.state)) return grant;
        if (Date.now() > deadline) throw new Error(`grant of ${agentId}/${taskId} is ${grant?.state ?? 'absent'}, not ${states.join('/')}`);
        await new Promise((done) => setTimeout(done, 50));
      }
    },
    close: () => dynamo.destroy(),
  };
}

/** Starts a task, expects its credential issued (a denial fails the test with its reason), and waits for the grant's `active` record. */
export async function issuedAndActive(
  runtime: AgentRuntime,
  grants: GrantTableReader,
  task: { readonly agentId: string; readonly taskId: string; readonly scopes: string[] },
  purpose: string,
): Promise<Delivery> {
  await runtime.startTask({ ...task, purpose, requestedBy: 'dev@example.com' });
  const delivery = await runtime.waitForDelivery(task.agentId, task.taskId, ['issued', 'denied']);
  expect(delivery, `${task.taskId}: ${delivery.reason ?? ''}`).toMatchObject({ status: 'issued' });
  await grants.waitFor(task.agentId, task.taskId, ['active']);
  return delivery;
}
