// CDK construct: the shape the revoking functions share (task-ended, credential-leaked,
// agent-status, revoke-requested): revoke credentials and deliveries, deliver `denied` to a revoked
// pending grant, cancel its expiry. Each of them is its own subclass below; prove-revocation, which
// revokes nothing, has a narrower role of its own beside them.
import { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { EngineHandler } from '../../bundling';
import {
  grantCancelling,
  grantDelivering,
  grantDestroyingDeliveries,
  grantRevokingDeliveries,
  ProveCredentialsDead,
  PublishGrantEvents,
  RevokeCredentials,
  UseGrantStore,
} from '../capabilities';
import { TaskboundFunction } from '../taskbound-function';
import { engineFunctionProps, functionId, grantsTo, type EngineWiring } from './engine-function';
import { revokingEnvironment } from './environment';

/** A function that revokes and cancels expiry; `extra` adds what one of them needs besides. */
export class RevokingFunction extends TaskboundFunction {
  protected constructor(scope: Construct, handler: EngineHandler, wiring: EngineWiring, own: { readonly timeout?: Duration } = {}) {
    super(scope, functionId(handler), engineFunctionProps(wiring, handler, { environment: revokingEnvironment(wiring, handler), ...own }));
    const grants = grantsTo(this.engineRole, wiring);
    new UseGrantStore(this, grants);
    new PublishGrantEvents(this, grants);
    new RevokeCredentials(this, grants);
    grantRevokingDeliveries(this, grants);
    // A pending grant that is revoked gets a `denied` delivery (docs/contract.md §5).
    grantDelivering(this, grants);
    grantCancelling(this, grants);
  }
}

/** task-ended: the agent's runtime says the task is over. */
export class TaskEndedFunction extends RevokingFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(scope, 'task-ended', wiring);
  }
}

/** credential-leaked: a leak report (or AWS Health's exposed-key event) revokes at once. */
export class CredentialLeakedFunction extends RevokingFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(scope, 'credential-leaked', wiring);
  }
}

/** agent-status: suspending an agent revokes every grant it holds (a bus resume is refused). */
export class AgentStatusFunction extends RevokingFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(scope, 'agent-status', wiring, { timeout: Duration.minutes(2) });
  }
}

/**
 * prove-revocation: the proof of a death IAM had not enforced when its revoking function probed once
 * (the engine's `Grant Revoked` with `proof: pending`). It probes, deletes the delivery and records the
 * grant `verified`. It revokes nothing, so its role can revoke nothing either: it reads the sessions'
 * deny but cannot write it (nor empty it), deletes no key or user, and cancels no schedule.
 */
export class ProveRevocationFunction extends TaskboundFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    const handler = 'prove-revocation';
    super(scope, functionId(handler), engineFunctionProps(wiring, handler, { environment: revokingEnvironment(wiring, handler) }));
    const grants = grantsTo(this.engineRole, wiring);
    new UseGrantStore(this, grants);
    new PublishGrantEvents(this, grants);
    new ProveCredentialsDead(this, grants);
    grantDestroyingDeliveries(this, grants);
  }
}

/** revoke-requested: `taskbound revoke` and any producer asking for one grant's end. */
export class RevokeRequestedFunction extends RevokingFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(scope, 'revoke-requested', wiring);
  }
}
