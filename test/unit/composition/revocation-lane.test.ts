// Tests: the revoking functions' entry points (routes.ts REVOKING) run in the revocation lane on AWS,
// so their SDK calls go before any issuance waiting at a quota (quota-throttle.ts); the issuing ones do not.
// Each asks for the engine of its kind (composition/aws-config.ts), the one its stack environment configures.
import { describe, expect, it, vi } from 'vitest';
import { currentLane, type Lane } from '../../../lambdas/adapters/aws/quota-throttle';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { ISSUING, REVOKING } from '../../../lambdas/routes';

/** The lane each entry point asked for its dependencies in, and which engine it asked for; then it stops (no dependencies). */
const lanes: Lane[] = [];
const asked: string[] = [];
const recordLane = (engine: string) => async () => {
  lanes.push(currentLane());
  asked.push(engine);
  throw new Error('no dependencies in this test');
};
vi.mock('../../../lambdas/composition/aws-engine', () => ({
  awsIssuingEngine: recordLane('issuing'),
  awsExpiringEngine: recordLane('expiring'),
  awsRevokingEngine: recordLane('revoking'),
  awsProvingEngine: recordLane('revoking, through the spokes’ prover roles'),
  spokeCredentialsFor: () => undefined,
}));
vi.mock('../../../lambdas/composition/aws-sweep', () => ({ awsSweepEngine: recordLane('sweep (revoking, with CloudTrail)') }));

/** The engine each entry point's function is configured for (lib/constructs/functions/environment.ts). */
const ENGINE_OF: Record<(typeof REVOKING)[number] | 'task-started', string> = {
  'task-started': 'issuing',
  'task-ended': 'revoking',
  'expire-grant': 'expiring',
  'ttl-expiry-stream': 'expiring',
  'credential-leaked': 'revoking',
  'agent-status': 'revoking',
  'revoke-requested': 'revoking',
  'prove-revocation': 'revoking, through the spokes’ prover roles',
  sweep: 'sweep (revoking, with CloudTrail)',
};

const bus = (detailType: string) => ({
  version: '0',
  id: '1',
  'detail-type': detailType,
  source: 's',
  account: '111122223333',
  time: '2026-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: {},
});
/** An event each entry point reaches its dependencies with. */
const EVENTS: Record<(typeof REVOKING)[number] | 'task-started', unknown> = {
  'task-started': bus('Task Started'),
  'task-ended': bus('Task Ended'),
  'expire-grant': { grantId: grantIdFor('deploy-bot', 'task-1') },
  'ttl-expiry-stream': { Records: [] },
  'credential-leaked': bus('Credential Leaked'),
  'agent-status': bus('Agent Suspended'),
  'revoke-requested': bus('Revoke Requested'),
  'prove-revocation': bus('Grant Revoked'),
  sweep: {},
};
const context = { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 };

describe('the lane of each AWS entry point', () => {
  it.each(REVOKING)('%s runs in the revocation lane, with the engine of its kind', async (name) => {
    lanes.length = 0;
    asked.length = 0;
    const { handler } = (await import(`../../../lambdas/handlers/${name}.ts`)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    await expect(handler(EVENTS[name], context)).rejects.toThrow('no dependencies');
    expect(lanes).toEqual(['revocation']);
    expect(asked).toEqual([ENGINE_OF[name]]);
  });

  it('task-started, an issuing one, runs in the issuance lane with the issuing engine', async () => {
    expect(ISSUING).toContain('task-started');
    lanes.length = 0;
    asked.length = 0;
    const { handler } = await import('../../../lambdas/handlers/task-started');
    await expect(handler(EVENTS['task-started'] as never, context as never)).rejects.toThrow('no dependencies');
    expect(lanes).toEqual(['issuance']);
    expect(asked).toEqual([ENGINE_OF['task-started']]);
  });
});
