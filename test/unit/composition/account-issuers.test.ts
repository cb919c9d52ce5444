import { describe, expect, it } from 'vitest';
import { accountIssuers, UnknownAccountError } from '../../../lambdas/composition/account-issuers';
import { accountsNamed } from '../../../lambdas/domain/accounts';
import { parsePolicy } from '../../../lambdas/domain/policy-file';
import type { Issuers, RevokeTarget } from '../../../lambdas/ports';
import { endTask } from '../../../lambdas/use-cases/end-task';
import { reconcileOrphans } from '../../../lambdas/use-cases/reconcile-orphans';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { fakeEngine } from '../../helpers/fake-engine';
import { FakeIssuer, type FakeClock } from '../../helpers/fake-ports';

const HUB = '111122223333';
const SPOKE = '444455556666';

const POLICY = `
version: 1
approvals: { read: { mode: auto }, write: { mode: auto }, deploy: { mode: auto }, transact: { mode: auto } }
scopes:
  hub-read:
    action: read
    credential: aws-sts-session
    statements: [{ Effect: Allow, Action: [s3:GetObject], Resource: "arn:aws:s3:::hub/*" }]
  prod-deploy:
    action: deploy
    credential: aws-sts-session
    account: "${SPOKE}"
    statements: [{ Effect: Allow, Action: [lambda:UpdateFunctionCode], Resource: "arn:aws:lambda:us-east-1:${SPOKE}:function:web" }]
agents:
  ops-bot:
    owner: lead@example.com
    purpose: Deploys the web app
    riskTier: high
    runtimePrincipal: arn:aws:iam::${HUB}:role/ops-runtime
    scopes: [hub-read, prod-deploy]
    maxTtlSeconds: 3600
    defaultTtlSeconds: 600
    maxConcurrentGrants: 5
`;

/** A session issuer that can also list what it holds, like IAM users can be listed. */
class ListingIssuer extends FakeIssuer {
  readonly extra: { grantId: string }[] = [];
  async *listIssued() {
    for (const grantId of this.issued.keys()) yield { grantId };
    yield* this.extra;
  }
}

function twoAccountEngine(reach?: (account: string) => Promise<unknown>) {
  const engine = fakeEngine();
  const perAccount = new Map<string, { sessions: ListingIssuer; keys: FakeIssuer }>();
  const built: string[] = [];
  const issuersIn = (account: string): Issuers => {
    built.push(account);
    const issuers = {
      sessions: new ListingIssuer('aws-sts-session', engine.clock as FakeClock),
      keys: new FakeIssuer('aws-iam-access-key', engine.clock),
    };
    perAccount.set(account, issuers);
    return { 'aws-sts-session': issuers.sessions, 'aws-iam-access-key': issuers.keys };
  };
  const issuers = accountIssuers({ hubAccount: HUB, spokeAccounts: [SPOKE], issuersIn, ...(reach ? { reach } : {}) });
  const deps = { ...engine, policy: parsePolicy(POLICY, 'orgs.policy.yaml'), issuers };
  const inAccount = (account: string) => perAccount.get(account)!;
  return { deps, engine, inAccount, built };
}

const started = (taskId: string, scopes: string[]) => ({
  agentId: 'ops-bot',
  taskId,
  purpose: 'ship',
  requestedBy: 'dev@example.com',
  scopes,
});

describe('accountIssuers (hub and spoke)', () => {
  it('issues and revokes a spoke scope’s credential in the spoke, and names the account in the grant, its audit and events', async () => {
    const { deps, engine, inAccount } = twoAccountEngine();

    const result = await startTask(deps, started('t-spoke', ['prod-deploy']));
    expect(result.grant).toMatchObject({ state: 'active', account: SPOKE });
    expect(inAccount(SPOKE).sessions.issued.get(result.grant!.grantId)?.request.account).toBe(SPOKE);
    expect(inAccount(HUB)?.sessions.issued.size ?? 0).toBe(0);
    expect(result.grant!.audit.find((entry) => entry.action === 'auto-approved')?.detail).toEqual({ account: SPOKE });
    expect(engine.events.of('Grant Issued')[0]!.detail.account).toBe(SPOKE);

    await endTask(deps, { agentId: 'ops-bot', taskId: 't-spoke', outcome: 'succeeded' });
    expect(inAccount(SPOKE).sessions.isLive(result.grant!.grantId)).toBe(false);
    expect(engine.events.of('Revocation Verified')[0]!.detail.account).toBe(SPOKE);
  });

  it('keeps a scope without an account in the hub, and its events without an account', async () => {
    const { deps, engine, inAccount } = twoAccountEngine();
    const result = await startTask(deps, started('t-hub', ['hub-read']));
    expect(result.grant).not.toHaveProperty('account');
    expect(inAccount(HUB).sessions.issued.has(result.grant!.grantId)).toBe(true);
    expect(engine.events.of('Grant Issued')[0]!.detail).not.toHaveProperty('account');
  });

  it('refuses a spoke task it cannot reach, saying why, with nothing issued or revoked there; the hub is not asked to be reached', async () => {
    const reached: string[] = [];
    const { deps, engine, inAccount } = twoAccountEngine(async (account) => {
      reached.push(account);
      throw new Error('the engine could not assume the spoke role (AccessDenied)');
    });

    const spoke = await startTask(deps, started('t-cut-off', ['prod-deploy']));
    const hub = await startTask(deps, started('t-hub', ['hub-read']));

    expect(spoke.grant).toMatchObject({ state: 'failed', account: SPOKE });
    expect(spoke.grant?.reason).toBe(`no credential in account ${SPOKE}: the engine could not assume the spoke role (AccessDenied)`);
    expect(inAccount(SPOKE).sessions.issued.size).toBe(0);
    expect(inAccount(SPOKE).sessions.revokeCalls).toEqual([]);
    expect(engine.events.of('Grant Denied')[0]!.detail).toMatchObject({ account: SPOKE, state: 'failed' });
    expect(hub.grant).toMatchObject({ state: 'active' });
    expect(reached).toEqual([SPOKE]);
  });

  it('reports a revocation that fails in a spoke with the account named', async () => {
    const { deps, engine, inAccount } = twoAccountEngine();
    const result = await startTask(deps, started('t-fail', ['prod-deploy']));
    inAccount(SPOKE).sessions.failRevocations = 1;
    await endTask(deps, { agentId: 'ops-bot', taskId: 't-fail', outcome: 'succeeded' });
    const [failed] = engine.events.of('Revocation Failed');
    expect(failed!.detail).toMatchObject({
      grantId: result.grant!.grantId,
      account: SPOKE,
      reason: expect.stringContaining(`in account ${SPOKE}`),
    });
  });

  it('finds an orphan in the spoke and revokes it there, naming the account', async () => {
    const { deps, engine, inAccount } = twoAccountEngine();
    await startTask(deps, started('t-known', ['prod-deploy']));
    const orphanId = 'g-abcdefghijklmnopqrstuvwxyz';
    inAccount(SPOKE).sessions.extra.push({ grantId: orphanId });
    const revoked: RevokeTarget[] = [];
    const spokeRevoke = inAccount(SPOKE).sessions.revoke.bind(inAccount(SPOKE).sessions);
    inAccount(SPOKE).sessions.revoke = async (target) => (revoked.push(target), spokeRevoke(target));

    const report = await reconcileOrphans(deps);

    expect(report).toMatchObject({ orphans: 1, errors: 0 });
    expect(revoked).toEqual([expect.objectContaining({ grantId: orphanId, account: SPOKE })]);
    expect(engine.events.of('Orphan Credential Found')[0]!.detail).toMatchObject({
      grantId: orphanId,
      account: SPOKE,
      reason: expect.stringContaining(`in account ${SPOKE}`),
    });
  });

  it('says so when a grant lives in an account the policy no longer names: its revocation fails, with the fix, and is retried', async () => {
    const { deps, engine } = twoAccountEngine();
    const result = await startTask(deps, started('t-orphaned', ['prod-deploy']));
    // A new policy without the spoke account is deployed while the grant is live.
    const withoutSpoke = { ...deps, issuers: accountIssuers({ hubAccount: HUB, spokeAccounts: [], issuersIn: () => deps.issuers }) };

    const ended = await endTask(withoutSpoke, { agentId: 'ops-bot', taskId: 't-orphaned', outcome: 'succeeded' });

    expect(ended).toMatchObject({ outcome: 'revocation-failed' });
    expect(engine.events.of('Revocation Failed')[0]!.detail).toMatchObject({
      grantId: result.grant!.grantId,
      account: SPOKE,
      reason: expect.stringContaining(`in account ${SPOKE} (UnknownAccountError: account ${SPOKE} is not named by the policy`),
    });
    expect(engine.events.of('Revocation Failed')[0]!.detail.reason).toContain(
      'list it under retiredAccounts until the grants there are dead',
    );
  });

  it('still revokes, proves dead and lists credentials in an account the policy retired, and issues nothing there', async () => {
    const { deps, inAccount } = twoAccountEngine();
    const result = await startTask(deps, started('t-retiring', ['prod-deploy']));
    // The next policy takes prod-deploy out and retires its account: the engine still reaches it.
    const retiring = parsePolicy(
      `${POLICY.replace('scopes: [hub-read, prod-deploy]', 'scopes: [hub-read]').replace(/ {2}prod-deploy:[\s\S]*?(?=agents:)/, '')}retiredAccounts: ["${SPOKE}"]\n`,
      'orgs.policy.yaml',
    );
    const sameIssuersIn = (account: string): Issuers => ({
      'aws-sts-session': inAccount(account).sessions,
      'aws-iam-access-key': inAccount(account).keys,
    });
    const afterRetiring = {
      ...deps,
      policy: retiring,
      issuers: accountIssuers({ hubAccount: HUB, spokeAccounts: accountsNamed(retiring), issuersIn: sameIssuersIn }),
    };

    const ended = await endTask(afterRetiring, { agentId: 'ops-bot', taskId: 't-retiring', outcome: 'succeeded' });
    const refused = await startTask(afterRetiring, started('t-after', ['prod-deploy']));

    expect(ended).toMatchObject({ outcome: 'verified', grant: { state: 'verified', account: SPOKE } });
    expect(inAccount(SPOKE).sessions.revokeCalls).toEqual([result.grant!.grantId]);
    expect(refused).toMatchObject({ outcome: 'denied' });
    const listed = [];
    for await (const credential of afterRetiring.issuers['aws-sts-session'].listIssued!()) listed.push(credential);
    expect(listed).toContainEqual(expect.objectContaining({ grantId: result.grant!.grantId, account: SPOKE }));
  });

  it('refuses to act in an account the policy does not name', async () => {
    const { deps, built } = twoAccountEngine();
    const target = {
      grantId: 'g-abcdefghijklmnopqrstuvwxyz',
      agentId: 'ops-bot',
      taskId: 't',
      kind: 'aws-sts-session' as const,
      account: '999988887777',
    };
    await expect(deps.issuers['aws-sts-session'].revoke(target)).rejects.toThrow(UnknownAccountError);
    expect(built).not.toContain('999988887777');
  });

  it('says when a kind admits new credentials after a kill switch as its hub issuer does, and not at all when it cannot tell', () => {
    const admitting = (account: string): Issuers => {
      const sessions = Object.assign(new FakeIssuer('aws-sts-session', fakeEngine().clock), {
        admitsIssuesFrom: (at: Date) => new Date(at.getTime() + (account === HUB ? 11_000 : 99_000)),
      });
      return { 'aws-sts-session': sessions, 'aws-iam-access-key': new FakeIssuer('aws-iam-access-key', fakeEngine().clock) };
    };
    const issuers = accountIssuers({ hubAccount: HUB, spokeAccounts: [SPOKE], issuersIn: admitting });
    const notice = new Date('2026-11-30T07:00:00Z');

    expect(issuers['aws-sts-session'].admitsIssuesFrom?.(notice).toISOString()).toBe('2026-11-30T07:00:11.000Z');
    expect(issuers['aws-iam-access-key'].admitsIssuesFrom).toBeUndefined();
  });
});
