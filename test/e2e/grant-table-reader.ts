// Test helpers (e2e): the grant table read from outside the engine, through its DynamoDB
// endpoint with the engine's own store code, as the CLI reads it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbGrantStore } from '../../lambdas/adapters/aws/dynamodb-grant-store';
import { LOCAL_TABLE } from '../../lambdas/local/engine';
import { localClientConfig } from '../../lambdas/local/host/sdk-clients';
import { grantIdFor } from '../../lambdas/domain/ids';
import type { Grant, GrantState } from '../../lambdas/domain/grant';

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
