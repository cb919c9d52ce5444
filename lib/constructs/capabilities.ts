// CDK constructs: the capabilities an engine function may be granted (issue, revoke, deliver,
// schedule, ...). Each adds to one function's role exactly the statements of
// engine-permissions.ts (or delivery-table.ts) that make it up, so a function's construct reads as
// its list of capabilities. The grant* helpers pick the ones the deployment's modes call for.
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { revokeDeliveryItems, writeDeliveryItems } from './delivery-table';
import * as can from './engine-permissions';
import { assumeSpokeEngineRoles, assumeSpokeProverRoles } from './spoke-access';

/** What every capability reads: the engine's resources (engine-permissions.ts) and the role it is granted to. */
export interface CapabilityProps {
  readonly grantee: iam.IRole;
  readonly context: can.PermissionContext;
}

/** One named group of statements, added to the grantee's own (default) policy. */
export abstract class Capability extends Construct {
  protected constructor(scope: Construct, id: string, grantee: iam.IRole, statements: readonly iam.PolicyStatement[]) {
    super(scope, id);
    for (const statement of statements) grantee.addToPrincipalPolicy(statement);
  }
}

/** Read and write grant items and query their indexes (no scans; deletes of an agent's slots only). */
export class UseGrantStore extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    super(scope, 'UseGrantStore', props.grantee, can.grantStoreAccess(props.context));
  }
}

/** Open grants: the transaction that takes a slot checks the agent's standing (ConditionCheckItem). */
export class OpenGrants extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    super(scope, 'OpenGrants', props.grantee, can.openGrants(props.context));
  }
}

/** Publish on the bus, only as `source: taskbound`. */
export class PublishGrantEvents extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    super(scope, 'PublishGrantEvents', props.grantee, can.publishGrantEvents(props.context));
  }
}

/**
 * Issue sessions and access keys (in spokes through their engine roles) and kill a credential
 * just issued whose delivery failed: nothing that lists or revokes anyone else's.
 */
export class IssueCredentials extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    const { context } = props;
    super(scope, 'IssueCredentials', props.grantee, [
      ...can.issueSessions(context),
      ...can.issueUsers(context),
      ...can.killIssuedCredentials(context),
      ...assumeSpokeEngineRoles(context.config, context.policy),
    ]);
  }
}

/** Revoke sessions (the revoked-sessions deny) and issued users, here and in spokes. */
export class RevokeCredentials extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    const { context } = props;
    super(scope, 'RevokeCredentials', props.grantee, [
      ...can.revokeUsers(),
      ...can.denyRevokedSessions(context),
      ...assumeSpokeEngineRoles(context.config, context.policy),
    ]);
  }
}

/**
 * Prove killed credentials dead: read the sessions' deny and list issued keys, here and (through
 * their read-only prover roles, never their engine roles) in spokes. Nothing that revokes.
 */
export class ProveCredentialsDead extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    const { context } = props;
    super(scope, 'ProveCredentialsDead', props.grantee, [
      ...can.proveCredentialsDead(context),
      ...assumeSpokeProverRoles(context.config, context.policy),
    ]);
  }
}

/** Read a delivery secret (the credential to probe with) and delete it once its credential is proven dead. */
export class DestroyDeliveries extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    super(scope, 'DestroyDeliveries', props.grantee, can.destroyDeliveries(props.context));
  }
}

/** Write delivery secrets `taskbound/*` encrypted with the delivery key (a revoked pending grant is delivered `denied`). */
export class DeliverCredentials extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    super(scope, 'DeliverCredentials', props.grantee, can.writeDeliveries(props.context));
  }
}

/** Delete and list delivery secrets; rotate the brokered secrets marked rotateAfterUse. */
export class RevokeDeliveries extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    super(scope, 'RevokeDeliveries', props.grantee, can.revokeDeliveries(props.context));
  }
}

/** Encrypt deliveries under a delivery context and put them as items of the delivery table (the `dynamodb-kms` mode). */
export class DeliverCredentialItems extends Capability {
  constructor(scope: Construct, props: CapabilityProps, table: dynamodb.ITable) {
    super(scope, 'DeliverCredentialItems', props.grantee, writeDeliveryItems(table, props.context.deliveryKey));
  }
}

/** Read back (to prove dead), delete and scan delivery items (the `dynamodb-kms` mode). */
export class RevokeDeliveryItems extends Capability {
  constructor(scope: Construct, props: CapabilityProps, table: dynamodb.ITable) {
    super(scope, 'RevokeDeliveryItems', props.grantee, revokeDeliveryItems(table, props.context.deliveryKey));
  }
}

/** Create (and delete) one-time expiry schedules in the engine's group, passing only the scheduler role. */
export class ScheduleExpiry extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    super(scope, 'ScheduleExpiry', props.grantee, can.scheduleExpiry(props.context));
  }
}

/** Delete expiry schedules, nothing else. */
export class CancelExpiry extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    super(scope, 'CancelExpiry', props.grantee, can.cancelExpiry(props.context));
  }
}

/** Scan the sparse index of live grants: the sweep judges each by the policy in force. */
export class ScanLiveGrants extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    super(scope, 'ScanLiveGrants', props.grantee, can.scanLiveGrants(props.context));
  }
}

/** CloudTrail event history by access key id: use after revocation. */
export class LookUpCredentialUse extends Capability {
  constructor(scope: Construct, props: Pick<CapabilityProps, 'grantee'>) {
    super(scope, 'LookUpCredentialUse', props.grantee, can.lookUpCredentialUse());
  }
}

/** Read the Slack webhook or bot token and signing secret. */
export class ReadSlackSecret extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    super(scope, 'ReadSlackSecret', props.grantee, can.readSlackSecret(props.context));
  }
}

/** Keep approval messages' Slack thread ids as items of the grant table. */
export class KeepApprovalThreads extends Capability {
  constructor(scope: Construct, props: CapabilityProps) {
    super(scope, 'KeepApprovalThreads', props.grantee, can.approvalThreads(props.context));
  }
}

/** Delivering in the deployment's mode: delivery secrets, or delivery items in the `dynamodb-kms` mode. */
export function grantDelivering(scope: Construct, props: CapabilityProps): void {
  const table = props.context.deliveryTable;
  if (table) new DeliverCredentialItems(scope, props, table);
  else new DeliverCredentials(scope, props);
}

/**
 * Revoking deliveries in the deployment's mode. Delivery secrets in either mode: the revoker
 * rotates brokered secrets, and deletes deliveries written before a switch of mode.
 */
export function grantRevokingDeliveries(scope: Construct, props: CapabilityProps): void {
  new RevokeDeliveries(scope, props);
  const table = props.context.deliveryTable;
  if (table) new RevokeDeliveryItems(scope, props, table);
}

/** Scheduling expiry only in the `schedule` expiry mode: with `due-index` no engine role may touch Scheduler. */
export function grantScheduling(scope: Construct, props: CapabilityProps): void {
  if (props.context.config.expiry === 'schedule') new ScheduleExpiry(scope, props);
}

/** A proof's deliveries: secrets, or the delivery table's items in the `dynamodb-kms` mode. */
export function grantDestroyingDeliveries(scope: Construct, props: CapabilityProps): void {
  const table = props.context.deliveryTable;
  if (table) new RevokeDeliveryItems(scope, props, table);
  else new DestroyDeliveries(scope, props);
}

/** Cancelling expiry only in the `schedule` expiry mode (with `due-index` there is no schedule to cancel). */
export function grantCancelling(scope: Construct, props: CapabilityProps): void {
  if (props.context.config.expiry === 'schedule') new CancelExpiry(scope, props);
}
