// Test tier (AWS emulator): how a test approves or denies. Decisions count only when the
// engine authenticated the person (Slack, or the IAM-authenticated operator endpoint), so
// tests call the use case `decideGrant` in process as that endpoint would, with the person
// already authenticated. One place to change when the operator endpoint lands.
import { decideGrant } from '../../lambdas/use-cases/decide-grant';
import type { MotoWorld } from './moto-world';

export interface Decision {
  readonly grantId: string;
  readonly decision: 'approve' | 'deny';
  /** The authenticated person. */
  readonly approver: string;
  readonly reason: string;
}

export function decide(world: MotoWorld, decision: Decision) {
  return world.run(() => decideGrant(world.engine, decision) as Promise<{ outcome: string; grant?: { state: string } }>);
}
