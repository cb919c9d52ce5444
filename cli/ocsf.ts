// CLI: the audit trail in the Open Cybersecurity Schema Framework (OCSF 1.8.0), the schema AWS
// Security Lake ingests. Each audit entry maps to one class of the IAM category, chosen by
// what the entry records (docs/cli.md has the table):
//   - the grant record's life (requested, decided, revoking, verified): Entity Management (3004),
//     the grant being the managed entity;
//   - privileges given to or taken from the agent (issued, revoked, still valid): User Access
//     Management (3005), the agent being the user and the task's scopes the privileges;
//   - the kill switch on an agent (suspended, resumed): Account Change (3001), Disable / Enable.
import type { AuditEntry } from '../lambdas/domain/audit';
import type { AgentRecord } from '../lambdas/ports';
import { repeatText } from './output';

export const OCSF_VERSION = '1.8.0';
const IAM_CATEGORY = 3;
const PRODUCT = { name: 'Taskbound', vendor_name: 'Taskbound', uid: 'taskbound' };

const OCSF_CLASSES = {
  accountChange: { uid: 3001, name: 'Account Change' },
  entityManagement: { uid: 3004, name: 'Entity Management' },
  userAccessManagement: { uid: 3005, name: 'User Access Management' },
} as const;

const SEVERITY = { informational: 1, low: 2, medium: 3, high: 4, critical: 5 } as const;
const STATUS = { success: 1, failure: 2 } as const;
const SEVERITY_NAME: Record<number, string> = { 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High', 5: 'Critical' };

/** One audit entry with the grant it belongs to: what `audit export` prints as a JSON line. */
export interface AuditRecord extends AuditEntry {
  readonly grantId: string;
  readonly agentId: string;
  readonly taskId: string;
  readonly scopes: readonly string[];
}

type Ocsf = Record<string, unknown>;

interface Mapping {
  readonly class: (typeof OCSF_CLASSES)[keyof typeof OCSF_CLASSES];
  readonly activityId: number;
  readonly activityName: string;
  readonly severity: number;
  readonly status: number;
}

/** One class and activity; its severity and status vary with what the entry says. */
const activity =
  (cls: Mapping['class'], activityId: number, activityName: string) =>
  (severity: number = SEVERITY.informational, status: number = STATUS.success): Mapping => ({
    class: cls,
    activityId,
    activityName,
    severity,
    status,
  });

const entityCreate = activity(OCSF_CLASSES.entityManagement, 1, 'Create');
const entityUpdate = activity(OCSF_CLASSES.entityManagement, 3, 'Update');
const assignPrivileges = activity(OCSF_CLASSES.userAccessManagement, 1, 'Assign Privileges');
const revokePrivileges = activity(OCSF_CLASSES.userAccessManagement, 2, 'Revoke Privileges');
const enableAccount = activity(OCSF_CLASSES.accountChange, 2, 'Enable');
const disableAccount = activity(OCSF_CLASSES.accountChange, 5, 'Disable');

/** The class, activity, severity and status of one audit action. */
function mappingOf(action: string): Mapping {
  if (action === 'requested' || action === 'ended-before-start') return entityCreate();
  if (action === 'issued') return assignPrivileges();
  if (action === 'revoked') return revokePrivileges();
  // The credential was still accepted after revocation: the revocation had not taken effect.
  if (action === 'still-valid') return revokePrivileges(SEVERITY.high, STATUS.failure);
  if (action === 'denied' || action === 'refused' || action === 'issue-failed') return entityUpdate(SEVERITY.low, STATUS.failure);
  // A refused decision may be a forged or out-of-turn approval: worth a look.
  if (action === 'decision-refused') return entityUpdate(SEVERITY.medium, STATUS.failure);
  if (action === 'revoke:leaked') return entityUpdate(SEVERITY.high);
  if (action === 'revoke:suspended') return entityUpdate(SEVERITY.medium);
  // The platform recorded calls with the credential after it was revoked: possible misuse.
  if (action === 'used-after-revocation') return entityUpdate(SEVERITY.critical, STATUS.failure);
  return entityUpdate();
}

/** OCSF users: a person (or the engine itself), and the agent, which OCSF has no type for (99, Other). */
const person = (name: string) => ({ name, uid: name, type_id: 1, type: 'User' });
const aiAgent = (agentId: string) => ({ name: agentId, uid: agentId, type_id: 99, type: 'AI agent' });

const epochMs = (iso: string) => Date.parse(iso);

function base(mapping: Mapping, at: string, message: string, uid: string): Ocsf {
  return {
    category_uid: IAM_CATEGORY,
    category_name: 'Identity & Access Management',
    class_uid: mapping.class.uid,
    class_name: mapping.class.name,
    activity_id: mapping.activityId,
    activity_name: mapping.activityName,
    type_uid: mapping.class.uid * 100 + mapping.activityId,
    type_name: `${mapping.class.name}: ${mapping.activityName}`,
    severity_id: mapping.severity,
    severity: SEVERITY_NAME[mapping.severity],
    status_id: mapping.status,
    status: mapping.status === STATUS.success ? 'Success' : 'Failure',
    time: epochMs(at),
    message,
    metadata: { version: OCSF_VERSION, product: PRODUCT, uid, log_name: 'taskbound-audit' },
  };
}

/** An audit entry as an OCSF event of the class its action maps to. */
export function auditRecordToOcsf(record: AuditRecord): Ocsf {
  const mapping = mappingOf(record.action);
  const message = `${record.action} ${record.grantId} (${record.agentId}/${record.taskId})${record.reason ? `: ${record.reason}` : ''}`;
  const event: Ocsf = {
    ...base(mapping, record.at, message, `${record.grantId}#${record.seq}`),
    actor: {
      user: record.actor === 'taskbound' ? { name: record.actor, uid: record.actor, type_id: 3, type: 'System' } : person(record.actor),
    },
    ...(record.reason ? { status_detail: record.reason } : {}),
    // The chain link travels with the event, so the SIEM copy can be checked against the store.
    unmapped: {
      grant_id: record.grantId,
      task_id: record.taskId,
      seq: record.seq,
      hash: record.hash,
      prev_hash: record.prevHash,
      policy_version: record.policyVersion,
      ...(record.from ? { from_state: record.from } : {}),
      ...(record.to ? { to_state: record.to } : {}),
    },
  };
  if (mapping.class.uid === OCSF_CLASSES.userAccessManagement.uid)
    return { ...event, user: aiAgent(record.agentId), privileges: [...record.scopes] };
  return {
    ...event,
    entity: {
      name: `grant ${record.grantId}`,
      uid: record.grantId,
      type: 'Taskbound grant',
      data: { agent_id: record.agentId, task_id: record.taskId, scopes: record.scopes },
    },
    ...(record.to ? { comment: `${record.from ?? '?'} -> ${record.to}` } : {}),
  };
}

/** An agent's kill-switch state as Account Change: Disable when suspended, Enable when resumed. */
export function agentRecordToOcsf(agent: AgentRecord & { readonly at: string }): Ocsf {
  const mapping = agent.suspended ? disableAccount(SEVERITY.medium) : enableAccount();
  return {
    ...base(
      mapping,
      agent.at,
      `${agent.agentId} ${agent.suspended ? 'suspended' : 'resumed'} by ${agent.by ?? 'unknown'}${agent.reason ? `: ${agent.reason}` : ''}${repeatText(agent)}`,
      `agent:${agent.agentId}@${agent.at}`,
    ),
    ...(agent.by ? { actor: { user: person(agent.by) } } : {}),
    user: aiAgent(agent.agentId),
    ...(agent.reason ? { status_detail: agent.reason } : {}),
  };
}
