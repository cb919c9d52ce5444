import { describe, expect, it } from 'vitest';
import { agentRecordToOcsf, auditRecordToOcsf, OCSF_VERSION, type AuditRecord } from '../../../cli/ocsf';
import { nextAuditEntry } from '../../../lambdas/domain/audit';
import { OCSF_SCHEMA, ocsfProblems } from '../../helpers/ocsf-validator';

/** Every action the engine writes into an audit chain, with the reason it writes where it matters. */
const ACTIONS: readonly [string, string | undefined][] = [
  ['requested', undefined],
  ['held-for-approval', 'deploy needs 1 approval(s)'],
  ['auto-approved', 'policy approves read automatically'],
  ['approved', 'reviewed'],
  ['decision-refused', 'lead@example.com owns agent "deploy-bot" and may not decide its grants'],
  ['denied', 'denied by sre@example.com: freeze'],
  ['refused', 'after its Task Ended'],
  ['ended-before-start', undefined],
  ['issued', undefined],
  ['issue-failed', 'credential issuance failed (AccessDenied)'],
  ['revoke:task_ended', 'task ended'],
  ['revoke:leaked', 'public gist'],
  ['revoke:suspended', 'agent suspended: drill'],
  ['revoked', undefined],
  ['still-valid', 'credential still accepted 12 s after notice; revoking again'],
  ['verified', 'probe rejected the credential (InvalidClientTokenId)'],
  ['used-after-revocation', '1 call(s) with the credential after its revocation at 2026-11-28T10:25:00.400Z (possible misuse)'],
  ['use-check', 'no call recorded after revocation'],
];

function record(action: string, reason: string | undefined): AuditRecord {
  const entry = nextAuditEntry('g-aaaaaaaaaaaaaaaaaaaaaaaaaa', undefined, {
    at: '2026-11-28T10:00:00.000Z',
    actor: action === 'approved' ? 'lead@example.com' : 'taskbound',
    action,
    ...(reason ? { reason } : {}),
    policyVersion: 'sha256:p',
  });
  return { ...entry, grantId: 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa', agentId: 'deploy-bot', taskId: 'ship-1', scopes: ['deploy-web'] };
}

describe('the OCSF export', () => {
  it('claims the OCSF version its class definitions come from', () => {
    expect(OCSF_VERSION).toBe(OCSF_SCHEMA.version);
  });

  it.each(ACTIONS)('maps a "%s" audit entry to an event its OCSF class accepts', (action, reason) => {
    const event = auditRecordToOcsf(record(action, reason));
    expect(ocsfProblems(event)).toEqual([]);
  });

  it('maps grants to Entity Management, privileges to User Access Management', () => {
    const classOf = (action: string) => auditRecordToOcsf(record(action, undefined)).class_uid;
    expect(['requested', 'approved', 'denied', 'verified', 'revoke:manual'].map(classOf)).toEqual([3004, 3004, 3004, 3004, 3004]);
    expect(['issued', 'revoked', 'still-valid'].map(classOf)).toEqual([3005, 3005, 3005]);
    expect(auditRecordToOcsf(record('issued', undefined))).toMatchObject({
      activity_id: 1,
      type_uid: 300501,
      user: { name: 'deploy-bot' },
      privileges: ['deploy-web'],
    });
    expect(auditRecordToOcsf(record('still-valid', 'x'))).toMatchObject({ activity_id: 2, status_id: 2, severity_id: 4 });
  });

  it('maps suspension and resumption to Account Change: Disable and Enable', () => {
    const suspended = agentRecordToOcsf({
      agentId: 'deploy-bot',
      suspended: true,
      by: 'secops@example.com',
      reason: 'drill',
      at: '2026-11-28T11:00:00.000Z',
    });
    const resumed = agentRecordToOcsf({
      agentId: 'deploy-bot',
      suspended: false,
      by: 'secops@example.com',
      at: '2026-11-28T12:00:00.000Z',
    });
    expect(suspended).toMatchObject({ class_uid: 3001, activity_id: 5, type_uid: 300105 });
    expect(resumed).toMatchObject({ class_uid: 3001, activity_id: 2, type_uid: 300102 });
    expect([...ocsfProblems(suspended), ...ocsfProblems(resumed)]).toEqual([]);
  });

  it('carries the chain link, so the SIEM copy can be checked against the store', () => {
    const source = record('issued', undefined);
    expect(auditRecordToOcsf(source).unmapped).toMatchObject({
      grant_id: source.grantId,
      seq: 0,
      hash: source.hash,
      prev_hash: source.prevHash,
    });
  });
});

describe('the OCSF validator used here', () => {
  const valid = () => auditRecordToOcsf(record('issued', undefined));

  it('finds a missing required attribute, a wrong type, an unknown enum value and a wrong type_uid', () => {
    const { user: _user, ...withoutUser } = valid();
    expect(ocsfProblems(withoutUser)).toContain('user: required by User Access Management');
    expect(ocsfProblems({ ...valid(), time: '2026-11-28' })).toContain('time: timestamp_t must be an integer, got "2026-11-28"');
    expect(ocsfProblems({ ...valid(), severity_id: 7 })).toContain('severity_id: 7 is not one of 0, 1, 2, 3, 4, 5, 6, 99');
    expect(ocsfProblems({ ...valid(), type_uid: 300401 })).toContain('type_uid: must be class_uid * 100 + activity_id = 300501');
  });

  it('finds attributes the class does not have and objects missing what they require', () => {
    expect(ocsfProblems({ ...valid(), grant_id: 'g-x' })).toContain('grant_id: not an attribute of User Access Management');
    expect(ocsfProblems({ ...valid(), metadata: { product: { name: 'Taskbound' } } })).toContain(
      'metadata.version: required by the metadata object',
    );
    expect(ocsfProblems({ ...valid(), user: { type: 'AI agent' } })).toContain(
      'user: the user object needs at least one of account, name, uid',
    );
  });
});
