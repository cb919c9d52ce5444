import { describe, expect, it } from 'vitest';
import {
  coversIssuedAt,
  denyTimeFor,
  parseRevokedBefore,
  renderRevokedBefore,
  sessionsPassFrom,
  TOKEN_ISSUE_MARGIN_SECONDS,
} from '../../../../lambdas/adapters/aws/revoked-before-policy';

describe("the kill switch's deny of an agent's older sessions", () => {
  it('names a whole second past the notice by the clock margin', () => {
    const deniedBefore = denyTimeFor(new Date('2026-11-30T07:00:00.250Z'));

    expect(deniedBefore.toISOString()).toBe(`2026-11-30T07:00:0${1 + TOKEN_ISSUE_MARGIN_SECONDS}.000Z`);
  });

  it('admits new sessions once the deny is past by the margin again: STS may run that far behind the engine', () => {
    const notice = new Date('2026-11-30T07:00:00.250Z');

    expect(sessionsPassFrom(notice).getTime() - denyTimeFor(notice).getTime()).toBe(TOKEN_ISSUE_MARGIN_SECONDS * 1000);
    expect(sessionsPassFrom(notice).toISOString()).toBe('2026-11-30T07:00:11.000Z');
  });

  it('covers every grant recorded issued before the notice, and none recorded at or after it', () => {
    const notice = new Date('2026-11-30T07:00:00.250Z');
    const deniedBefore = denyTimeFor(notice);

    expect(coversIssuedAt(deniedBefore, new Date(notice.getTime() - 1))).toBe(true);
    expect(coversIssuedAt(deniedBefore, new Date('2026-11-30T06:00:00Z'))).toBe(true);
    expect(coversIssuedAt(deniedBefore, new Date(notice.getTime() + 1000))).toBe(false);
    expect(coversIssuedAt(deniedBefore, undefined)).toBe(false);
    expect(coversIssuedAt(undefined, new Date(notice.getTime() - 1))).toBe(false);
  });

  it('reads back what it writes, as IAM returns it (URL-encoded), and nothing from a policy it did not write', () => {
    const deniedBefore = new Date('2026-11-30T07:00:06Z');
    const document = renderRevokedBefore(deniedBefore);

    expect(JSON.parse(document).Statement[0].Condition).toEqual({ DateLessThan: { 'aws:TokenIssueTime': '2026-11-30T07:00:06Z' } });
    expect(parseRevokedBefore(encodeURIComponent(document))).toEqual(deniedBefore);
    expect(parseRevokedBefore(undefined)).toBeUndefined();
    expect(
      parseRevokedBefore(JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Deny', Action: '*', Resource: '*' } })),
    ).toBeUndefined();
  });
});
