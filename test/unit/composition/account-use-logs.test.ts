import { describe, expect, it } from 'vitest';
import { UnknownAccountError } from '../../../lambdas/composition/account-issuers';
import { AccountUseLogs } from '../../../lambdas/composition/account-use-logs';
import type { RecordedCall } from '../../../lambdas/domain/use-after-revocation';
import type { CredentialUseLog } from '../../../lambdas/ports';

const HUB = '111122223333';
const PROD = '444455556666';
const LOGS = '777788889999';
const FROM = new Date('2026-11-30T10:00:00.000Z');
const TO = new Date('2026-11-30T11:00:00.000Z');

/** One account's CloudTrail: answers every read with one call named after the account. */
class AccountTrail implements CredentialUseLog {
  readonly reads: string[] = [];

  constructor(private readonly account: string) {}

  async callsWith(accessKeyId: string): Promise<readonly RecordedCall[]> {
    this.reads.push(accessKeyId);
    return [{ eventId: `e-${this.account}`, eventName: 'ListBuckets', eventSource: 's3.amazonaws.com', eventTime: FROM }];
  }
}

function routed() {
  const built: string[] = [];
  const trails = new Map<string, AccountTrail>();
  const logs = new AccountUseLogs({
    hubAccount: HUB,
    spokeAccounts: [PROD, LOGS],
    useLogIn: (account) => {
      built.push(account);
      const trail = new AccountTrail(account);
      trails.set(account, trail);
      return trail;
    },
  });
  return { logs, built, trails };
}

describe('AccountUseLogs', () => {
  it('reads a spoke grant’s calls in that spoke’s record, and nowhere else', async () => {
    const { logs, trails } = routed();

    const calls = await logs.callsWith('AKIAPRODKEY000000001', FROM, TO, PROD);

    expect(calls.map((call) => call.eventId)).toEqual([`e-${PROD}`]);
    expect(trails.get(PROD)?.reads).toEqual(['AKIAPRODKEY000000001']);
    expect(trails.get(HUB)?.reads).toEqual([]);
    expect(trails.get(LOGS)?.reads).toEqual([]);
  });

  it('reads a grant that names no account in the engine’s own record', async () => {
    const { logs, trails } = routed();

    const calls = await logs.callsWith('ASIAHUBSESSION000001', FROM, TO);

    expect(calls.map((call) => call.eventId)).toEqual([`e-${HUB}`]);
    expect(trails.get(HUB)?.reads).toEqual(['ASIAHUBSESSION000001']);
  });

  it('builds each account’s reader once, up front, the hub first', () => {
    const { built } = routed();
    expect(built).toEqual([HUB, PROD, LOGS]);
  });

  it('refuses an account the policy does not name, saying there is no spoke role there', () => {
    const { logs } = routed();
    expect(() => logs.callsWith('AKIAOTHER00000000001', FROM, TO, '123456789012')).toThrow(UnknownAccountError);
    expect(() => logs.callsWith('AKIAOTHER00000000001', FROM, TO, 'constructor')).toThrow(/not named by the policy/);
  });
});
