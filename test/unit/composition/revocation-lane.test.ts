// Tests: the revoking functions' entry points (routes.ts REVOKING) run in the revocation lane on AWS,
// so their SDK calls go before any issuance waiting at a quota (quota-throttle.ts); the issuing ones do not.
import { describe, expect, it, vi } from 'vitest';
import { currentLane, type Lane } from '../../../lambdas/adapters/aws/quota-throttle';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { ISSUING, REVOKING } from '../../../lambdas/routes';

/** The lane each entry point asked for its dependencies in; then it stops (no dependencies). */
const lanes: Lane[] = [];
const recordLane = async () => {
  lanes.push(currentLane());
  throw new Error('no dependencies in this test');
};
vi.mock('../../../lambdas/composition/aws-engine', () => ({ awsEngine: recordLane, spokeCredentialsFor: () => undefined }));
vi.mock('../../../lambdas/composition/aws-sweep', () => ({ awsSweepEngine: recordLane }));

const bus = (detailType: string) => ({ version: '0', id: '1', 'detail-type': detailType, source: 's', account: '111122223333', time: '2026-01-01T00:00:00Z', region: 'us-east-1', resources: [], detail: {} });
/** An event each entry point reaches its dependencies with. */
const EVENTS: Record<(typeof REVOKING)[number] | 'task-started', unknown> = {
  'task-started': bus('Task Started'),
  'task-ended': bus('Task Ended'),
  'expire-grant': { grantId: grantIdFor('deploy-bot', 'task-1') },
  'ttl-expiry-stream': { Records: [] },
  'credential-leaked': bus('Credential Leaked'),
  'agent-status': bus('Agent Suspended'),
  'revoke-requested': bus('Revoke Requested'),
  sweep: {},
};
const context = { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 };

describe('the lane of each AWS entry point', () => {
  it.each(REVOKING)('%s runs in the revocation lane', async (name) => {
    lanes.length = 0;
    const { handler } = (await import(`../../../lambdas/handlers/${name}.ts`)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
    await expect(handler(EVENTS[name], context)).rejects.toThrow('no dependencies');
    expect(lanes).toEqual(['revocation']);
  });

  it('task-started, an issuing one, runs in the issuance lane', async () => {
    expect(ISSUING).toContain('task-started');
    lanes.length = 0;
    const { handler } = await import('../../../lambdas/handlers/task-started');
    await expect(handler(EVENTS['task-started'] as never, context as never)).rejects.toThrow('no dependencies');
    expect(lanes).toEqual(['issuance']);
  });
});
