// Test helpers (e2e): a local engine on a free loopback port, in memory, and the ways a
// test looks at it from outside: the agent runtime and the grant table, both over the wire.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { resolve } from 'node:path';
import { startLocalEngine, LOCAL_TABLE, type LocalEngine, type LocalEngineOptions } from '../../lambdas/local/engine';
import { DynamoDbGrantStore } from '../../lambdas/adapters/aws/dynamodb-grant-store';
import { grantIdFor } from '../../lambdas/domain/ids';
import type { Grant, GrantState } from '../../lambdas/domain/grant';
import { localClientConfig } from '../../lambdas/local/host/sdk-clients';
import { AgentRuntime } from '../helpers/agent-runtime';
import { signedOperatorPost, type OperatorAnswer } from '../helpers/signed-operator-post';

export const EXAMPLE_POLICY = resolve(__dirname, '../../examples/taskbound.policy.yaml');

export interface Harness {
  readonly engine: LocalEngine;
  readonly runtime: AgentRuntime;
  /** The grant table read through the engine's DynamoDB endpoint, as the CLI reads it. */
  readonly grants: DynamoDbGrantStore;
  readonly alerts: string[];
  waitForGrant(agentId: string, taskId: string, states: readonly GrantState[], timeoutMs?: number): Promise<Grant>;
  /** POSTs `body` to the operator endpoint, SigV4-signed with the key the engine holds for `person`. */
  operator(person: string, body: unknown): Promise<OperatorAnswer>;
  stop(): Promise<void>;
}

export async function startHarness(options: Partial<LocalEngineOptions> = {}): Promise<Harness> {
  const alerts: string[] = [];
  const engine = await startLocalEngine({
    policyFile: EXAMPLE_POLICY,
    port: 0,
    sweepIntervalMs: 0,
    print: (line) => alerts.push(line),
    ...options,
  });
  const runtime = new AgentRuntime({ endpoint: engine.url });
  const dynamo = new DynamoDBClient(localClientConfig(engine.url));
  const grants = new DynamoDbGrantStore({ client: dynamo, tableName: LOCAL_TABLE });
  return {
    engine,
    runtime,
    grants,
    alerts,
    async waitForGrant(agentId, taskId, states, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const grant = await grants.get(grantIdFor(agentId, taskId));
        if (grant && states.includes(grant.state)) return grant;
        if (Date.now() > deadline) throw new Error(`grant of ${agentId}/${taskId} is ${grant?.state ?? 'absent'}, not ${states.join('/')}`);
        await new Promise((done) => setTimeout(done, 20));
      }
    },
    async operator(person, body) {
      const credentials = engine.operatorCredentials.people[person];
      if (!credentials) throw new Error(`the engine holds no operator key for ${person}`);
      return signedOperatorPost(engine.operatorUrl, credentials, body, { region: engine.operatorCredentials.region });
    },
    async stop() {
      runtime.close();
      dynamo.destroy();
      await engine.stop();
    },
  };
}
