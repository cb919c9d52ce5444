import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALERT_TYPES, type AlertEvent, type GrantAlertDetail } from '../../../../lambdas/domain/alert-event';
import { cutBuilt, mrkdwnText, redactSecrets } from '../../../../lambdas/adapters/slack/block-kit';
import {
  alertMessage,
  APPROVE_ACTION,
  approvalRequestMessage,
  DENY_ACTION,
  humanDuration,
} from '../../../../lambdas/adapters/slack/messages';
import { REVOCATION_TRIGGERS } from '../../../../lambdas/domain/grant';
import { blockKitViolations } from './block-kit-limits';

const GRANT_ID = 'g-abcdefghijklmnopqrstuvwxyz';
const base: GrantAlertDetail = {
  grantId: GRANT_ID,
  taskId: 'task-42',
  agentId: 'release-bot',
  at: '2025-03-01T12:00:00.000Z',
  owner: 'lead@example.com',
  requestedBy: 'dev@example.com',
  purpose: 'Bump lodash in web',
  scopes: ['repo-read', 'repo-write'],
  credentialKind: 'aws-iam-access-key',
  credentialId: 'AKIAEXAMPLEKEYID0001',
};

const eventOf = (detailType: AlertEvent['detailType'], detail: Record<string, unknown>): AlertEvent =>
  (detailType === 'Agent Suspended' ? { detailType, detail } : { detailType, detail: { ...base, ...detail } }) as AlertEvent;

const allText = (value: unknown) => JSON.stringify(value);

describe('Slack alert messages', () => {
  it("sum up a kill switch in one post: how many of the agent's grants are dead, and what to do next", () => {
    const tally = { grants: 1000, verified: 1000, awaitingProof: 0, failed: 0, closedOtherwise: 0, elapsedMs: 4_800 };
    const done = alertMessage(
      eventOf('Agent Suspension Completed', { grantId: '', taskId: '', revocations: tally, reason: 'suspended by sec: leak' }),
    );
    const failing = alertMessage(
      eventOf('Agent Suspension Completed', { grantId: '', taskId: '', revocations: { ...tally, verified: 997, failed: 3 }, reason: 'x' }),
    );

    expect(done.text).toBe(
      'Kill switch done: release-bot. The kill switch on agent release-bot (suspended by sec: leak) took 4.8 s: of its 1000 live grants, ' +
        '1000 verified dead. Next: Nothing left alive. Once it is safe, a person other than its owner resumes it: taskbound resume release-bot.',
    );
    expect(allText(failing)).toContain('3 not revoked');
    expect(allText(failing)).toContain('Revocation Failed');
    expect(allText(failing)).toContain('🚨');
  });

  it("tell a bus resume from an owner's resume refused at the operator endpoint, and what to do for each", () => {
    const refused = { grantId: '', taskId: '', claimedBy: 'lead@example.com' };
    const fromBus = alertMessage(eventOf('Agent Resume Refused', { ...refused, reason: 'carries no authority', refusedSource: 'x' }));
    const byOwner = alertMessage(eventOf('Agent Resume Refused', { ...refused, reason: 'lead@example.com owns agent "release-bot"' }));

    expect(fromBus.text).toContain('Resume not counted: release-bot');
    expect(fromBus.text).toContain('Resume through the operator endpoint');
    expect(byOwner.text).toContain('Resume refused: release-bot');
    expect(byOwner.text).toContain('ask another person from the policy');
    expect(byOwner.text).not.toContain('Agent Resumed event');
  });

  it('tell a decision put on the bus from one refused to a person, and what to do for each', () => {
    const decided = { approver: 'lead@example.com', decision: 'approve' };
    const fromBus = alertMessage(eventOf('Grant Decision Refused', { ...decided, reason: 'carries no authority', refusedSource: 'x' }));
    const byOwner = alertMessage(eventOf('Grant Decision Refused', { ...decided, reason: 'lead@example.com owns agent "release-bot"' }));

    expect(fromBus.text).toContain('Decision not counted: release-bot');
    expect(fromBus.text).toContain('decide through the operator endpoint');
    expect(fromBus.text).not.toContain('Ask another approver');
    expect(byOwner.text).toContain('Ask another approver from the policy’s group');
  });

  it('tell a decision that came after the request was settled that there is nothing left to decide', () => {
    const late = alertMessage(
      eventOf('Grant Decision Refused', {
        approver: 'lead@example.com',
        decision: 'deny',
        state: 'active',
        reason: 'grant is active, not pending approval',
      }),
    );
    const ineligible = alertMessage(
      eventOf('Grant Decision Refused', {
        approver: 'x@example.com',
        decision: 'approve',
        state: 'pending_approval',
        reason: 'not in group',
      }),
    );

    expect(late.text).toContain('Nothing to decide: the request was already settled (active)');
    expect(late.text).not.toContain('Ask another approver');
    expect(ineligible.text).toContain('Ask another approver from the policy’s group');
  });

  it('say who, what, why, when and what to do next for a leaked credential revocation', () => {
    const message = alertMessage(eventOf('Grant Revoked', { trigger: 'leaked', reason: 'found on a public gist' }));
    const text = allText(message);
    for (const expected of [
      'Leaked credential revoked',
      'release-bot',
      'lead@example.com',
      'dev@example.com',
      'repo-read',
      'AKIAEXAMPLEKEYID0001',
      'found on a public gist',
      'Next:',
      '<!date^1740830400^',
    ]) {
      expect(text).toContain(expected);
    }
    expect(message.text).toContain('Leaked credential revoked');
  });

  it('has a distinct title for every revocation trigger', () => {
    const titles = REVOCATION_TRIGGERS.map(
      (trigger) => (alertMessage(eventOf('Grant Revoked', { trigger })).blocks[0] as { text: { text: string } }).text.text,
    );
    expect(new Set(titles).size).toBe(5);
  });

  it('tells how long a credential stayed valid after the notice, in words', () => {
    const message = alertMessage(eventOf('Credential Still Valid', { stillValidAfterNoticeMs: 185_000 }));
    expect(allText(message)).toContain('3 min 5 s');
    expect(message.text).toContain('Credential still valid 3 min 5 s after revocation');
  });

  it('describes an agent suspension from its inbound detail', () => {
    const message = alertMessage(
      eventOf('Agent Suspended', { agentId: 'release-bot', by: 'sec@example.com', reason: 'odd API calls', at: base.at }),
    );
    expect(allText(message)).toContain('sec@example.com');
    expect(allText(message)).toContain('odd API calls');
    expect(allText(message)).toContain('taskbound resume release-bot');
    // Posted from the request, before the engine decides: it promises the outcome event, not that revocation is under way.
    expect(allText(message)).toContain('Agent Suspension Completed');
    expect(allText(message)).not.toMatch(/is being revoked/);
  });

  it('builds an approval request with Approve and a confirmed Deny that carry only the grant id', () => {
    const message = approvalRequestMessage({
      ...base,
      ttlSeconds: 900,
      riskTier: 'high',
      requiredApprovals: 2,
      approvers: ['cfo@example.com', 'sre@example.com'],
    });
    const actions = message.blocks.find((block) => block.type === 'actions') as {
      elements: { action_id: string; value: string; confirm?: unknown }[];
    };
    expect(actions.elements.map((button) => [button.action_id, button.value])).toEqual([
      [APPROVE_ACTION, GRANT_ID],
      [DENY_ACTION, GRANT_ID],
    ]);
    expect(actions.elements[1]?.confirm).toBeDefined();
    for (const expected of ['15 min', 'high', '2 of cfo@example.com, sre@example.com', 'Bump lodash in web'])
      expect(allText(message)).toContain(expected);
  });

  it('shows the outcome in the updated request, without buttons once settled', () => {
    const issued = approvalRequestMessage(base, { kind: 'issued', approvedBy: ['sre@example.com', 'cfo@example.com'] });
    expect(issued.blocks.some((block) => block.type === 'actions')).toBe(false);
    expect(allText(issued)).toContain('approved by sre@example.com, cfo@example.com');
    const waiting = approvalRequestMessage({ ...base, requiredApprovals: 2 }, { kind: 'waiting', approvedBy: ['sre@example.com'] });
    expect(allText(waiting)).toContain('1 of 2 approvals');
    expect(waiting.blocks.some((block) => block.type === 'actions')).toBe(true);
    const denied = approvalRequestMessage(base, { kind: 'denied', reason: 'approval window closed' });
    expect(denied.text).toContain('denied: approval window closed');
  });

  it("say what a refused Task Started told of its requester instead of 'unknown'", () => {
    const { requestedBy: _named, ...withoutRequester } = base;
    const denied = (detail: Record<string, unknown>) =>
      alertMessage({ detailType: 'Grant Denied', detail: { ...withoutRequester, ...detail } as GrantAlertDetail });

    const unverified = allText(denied({ requestedBy: 'dev@example.com', requestedByStatus: 'unverified' }));
    const missing = allText(denied({ requestedByStatus: 'not given' }));
    const invalid = allText(denied({ requestedByStatus: 'invalid in the event' }));

    expect(unverified).toContain('dev@example.com (unverified: named by an event that was refused)');
    expect(missing).toContain('not given in the event');
    expect(invalid).toContain('invalid in the event (not shown)');
    for (const text of [unverified, missing, invalid]) expect(text).not.toContain('unknown');
  });

  it('escapes user text so it cannot ping a channel or hide a link', () => {
    const message = alertMessage(eventOf('Grant Denied', { reason: '<!channel> see <https://evil.example|docs> & more' }));
    expect(allText(message)).not.toContain('<!channel>');
    expect(allText(message)).toContain('&lt;!channel&gt;');
  });

  it('never carries secret material, even when an event holds some', () => {
    const secrets = {
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      sessionToken: `FwoGZXIvYXdzE${'A'.repeat(300)}`,
      webhookUrl: 'https://hooks.slack.com/services/T000/B000/abcdef',
      botToken: 'xoxb-123-456-abcdef',
    };
    for (const detailType of ALERT_TYPES) {
      const leakyReason = `failed: secretAccessKey=${secrets.secretAccessKey} via ${secrets.webhookUrl} token ${secrets.botToken} ${secrets.sessionToken}`;
      const detail =
        detailType === 'Agent Suspended'
          ? { agentId: 'release-bot', by: 'x', reason: leakyReason, at: base.at, ...secrets }
          : { ...secrets, reason: leakyReason, purpose: leakyReason };
      const text = allText(
        detailType === 'Grant Pending Approval'
          ? approvalRequestMessage({ ...base, ...detail } as GrantAlertDetail)
          : alertMessage(eventOf(detailType, detail)),
      );
      for (const secret of Object.values(secrets)) expect(text, detailType).not.toContain(secret);
      expect(text).not.toContain('FwoGZXIvYXdzE');
    }
  });

  it('stays within Block Kit limits for any input, however long', () => {
    const anyText = fc.string({ unit: 'grapheme', maxLength: 6000, size: 'large' });
    fc.assert(
      fc.property(
        fc.constantFrom(...ALERT_TYPES),
        fc.record({
          grantId: anyText,
          taskId: anyText,
          agentId: anyText,
          owner: anyText,
          requestedBy: anyText,
          purpose: anyText,
          reason: anyText,
          credentialId: anyText,
          riskTier: anyText,
          approver: anyText,
        }),
        fc.array(anyText, { maxLength: 150 }),
        fc.constantFrom(...REVOCATION_TRIGGERS),
        (detailType, strings, list, trigger) => {
          const detail = {
            ...base,
            ...strings,
            scopes: list,
            approvers: list,
            trigger,
            stillValidAfterNoticeMs: 9e9,
            ttlSeconds: 43_200,
            requiredApprovals: 5,
          };
          const event =
            detailType === 'Agent Suspended'
              ? eventOf(detailType, {
                  agentId: strings.agentId || 'a',
                  by: strings.owner || 'b',
                  reason: strings.reason || 'c',
                  at: 'not a date',
                })
              : eventOf(detailType, detail);
          for (const message of [
            alertMessage(event),
            approvalRequestMessage(detail, { kind: 'waiting', approvedBy: list }),
            approvalRequestMessage(detail, { kind: 'denied', reason: strings.reason }),
          ]) {
            expect(blockKitViolations(message)).toEqual([]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('Block Kit text helpers', () => {
  it('cut escaped text without splitting an escape or a surrogate pair', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.integer({ min: 2, max: 200 }), (text, max) => {
        const cut = mrkdwnText(text, max);
        expect(cut.length).toBeLessThanOrEqual(max);
        expect(cut).not.toMatch(/&(a|am|amp|l|lt|g|gt)?…$/);
        expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      }),
    );
  });

  it('back off before a date token or entity when cutting built text', () => {
    expect(cutBuilt('when <!date^1^{date}|x> &amp; more', 12)).toBe('when …');
    expect(cutBuilt('a &amp; b', 5)).toBe('a …');
  });

  it('redact secret-looking strings but keep ordinary identifiers', () => {
    expect(redactSecrets('key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end')).toBe('key [redacted] end');
    expect(redactSecrets('"sessionToken": "abc"')).toBe('"sessionToken": "[redacted]"');
    expect(redactSecrets('AKIAEXAMPLEKEYID0001 and 0123456789abcdef0123456789abcdef01234567')).toBe(
      'AKIAEXAMPLEKEYID0001 and 0123456789abcdef0123456789abcdef01234567',
    );
  });

  it('write durations the way people say them', () => {
    expect([850, 42_000, 185_000, 7_800_000, 277_200_000].map(humanDuration)).toEqual([
      '850 ms',
      '42 s',
      '3 min 5 s',
      '2 h 10 min',
      '3 d 5 h',
    ]);
  });
});

describe('Slack alert messages across accounts', () => {
  it('name the account of a revocation that failed in a spoke, and of an approval request there', () => {
    const failed = alertMessage(
      eventOf('Revocation Failed', {
        account: '444455556666',
        reason: 'revocation failed in account 444455556666 (AccessDenied); the sweep retries',
      }),
    );
    expect(allText(failed.blocks)).toContain('in account `444455556666`');
    expect(blockKitViolations(failed)).toEqual([]);
    const approval = approvalRequestMessage({ ...base, account: '444455556666', requiredApprovals: 1 });
    expect(allText(approval.blocks)).toContain('in account `444455556666`');
  });

  it('name the account in the notification text itself, for every alert about a spoke grant', () => {
    const issued = alertMessage(
      eventOf('Grant Issued', { account: '444455556666', credentialKind: 'aws-sts-session', credentialId: 'ASIAEXAMPLESESSION01' }),
    );
    expect(issued.text).toBe(
      'Credential issued: release-bot. Taskbound issued credential ASIAEXAMPLESESSION01 for grant g-abcdefghijklmnopqrstuvwxyz (task task-42) in account 444455556666. ' +
        'Next: Nothing to do: it is revoked when the task ends or the TTL runs out.',
    );
    // Suspensions and refused resumes are about an agent, which may act in several accounts; the approval request is tested above.
    const aboutAGrant = ALERT_TYPES.filter(
      (type) => !['Agent Suspended', 'Agent Resume Refused', 'Agent Suspension Completed', 'Grant Pending Approval'].includes(type),
    );
    expect(aboutAGrant.length).toBeGreaterThanOrEqual(9);
    for (const detailType of aboutAGrant) {
      expect(alertMessage(eventOf(detailType, { account: '444455556666' })).text, detailType).toContain('in account 444455556666');
    }
  });

  it('send a failed revocation in a spoke to that account’s IAM and its spoke engine role', () => {
    const failed = alertMessage(eventOf('Revocation Failed', { account: '444455556666', reason: 'AccessDenied' }));
    expect(failed.text).toContain(
      'Next: The sweep retries. If this repeats, disable the credential in IAM of account 444455556666 by hand and check the spoke engine role there',
    );
  });

  it('say nothing about an account for a credential in the engine’s own', () => {
    expect(allText(alertMessage(eventOf('Revocation Failed', { reason: 'x' })).blocks)).not.toContain('in account');
  });
});
