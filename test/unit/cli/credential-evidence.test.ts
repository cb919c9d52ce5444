import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialCalls } from '../../../cli/context';
import type { ObservedCall } from '../../../lambdas/domain/credential-usage';
import { openGrant, transition, type Grant } from '../../../lambdas/domain/grant';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { harness, revokedGrant } from './cli-harness';

const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** A session issued one second after its request, for `scopes`, with its own access key id. */
function issued(agentId: string, taskId: string, scopes: string[], accessKeyId: string, at: string): Grant {
  const requested = openGrant({
    grantId: grantIdFor(agentId, taskId),
    taskId,
    agentId,
    at,
    actor: 'alice@example.com',
    policyVersion: 'sha256:test',
    scopes,
    purpose: 'ship release 7',
    requestedBy: 'alice@example.com',
  });
  const issuing = transition(requested, { to: 'issuing', at: plus(at, 500), actor: 'taskbound', action: 'auto-approved' });
  const expiresAt = plus(at, 900_000);
  return transition(issuing, {
    to: 'active',
    at: plus(at, 1000),
    actor: 'taskbound',
    action: 'issued',
    changes: {
      expiresAt,
      credential: { kind: 'aws-sts-session', accessKeyId, principalArn: 'arn:aws:sts::111122223333:assumed-role/agent/x', expiresAt },
    },
  });
}

const call = (at: string, service: string, operation: string, extra: Partial<ObservedCall> = {}): ObservedCall => ({
  at,
  service,
  operation,
  ...extra,
});

describe('taskbound grants show: what the credential did, from CloudTrail', () => {
  const recent = issued('deploy-bot', 'ship-7', ['deploy-web'], 'ASIADEPLOYEXAMPLE001', '2026-11-28T11:50:00.000Z');
  const old = revokedGrant(issued('deploy-bot', 'ship-6', ['deploy-web'], 'ASIADEPLOYEXAMPLE002', '2026-11-25T09:00:00.000Z'), {
    noticeAt: '2026-11-25T09:10:00.000Z',
    revokedAfterMs: 300,
    verifiedAfterMs: 900,
  });

  function aws(answers: Readonly<Record<string, CredentialCalls>>) {
    const cli = harness();
    cli.store.seed(recent, old);
    cli.calls.record = 'cloudtrail';
    cli.calls.reader = async (accessKeyId) => answers[accessKeyId] ?? { source: 'unavailable', why: 'unknown key' };
    return cli;
  }

  const revokedAt = old.revokedAt ?? '';
  const trail: Record<string, CredentialCalls> = {
    ASIADEPLOYEXAMPLE001: {
      source: 'cloudtrail',
      region: 'eu-west-1',
      truncated: false,
      calls: [
        call('2026-11-28T11:52:10.000Z', 'codedeploy', 'CreateDeployment', { sourceIp: '198.51.100.7', sourceIdentity: recent.grantId }),
      ],
    },
    ASIADEPLOYEXAMPLE002: {
      source: 'cloudtrail',
      region: 'eu-west-1',
      truncated: false,
      calls: [
        call(plus(revokedAt, 120_000), 'codedeploy', 'GetDeployment', {
          sourceIp: '192.0.2.66',
          errorCode: 'AccessDenied',
          sourceIdentity: old.grantId,
        }),
        call(plus(revokedAt, 400), 'secretsmanager', 'DescribeSecret', {
          userAgent: 'aws-sdk-js/3 taskbound-probe',
          errorCode: 'AccessDeniedException',
        }),
        call('2026-11-25T09:03:00.000Z', 'codedeploy', 'CreateDeployment', { sourceIp: '198.51.100.7', sourceIdentity: old.grantId }),
      ],
    },
  };

  it('lists each call: relative time, source and name, outcome, IP, before or after revocation, and its tie to the grant', async () => {
    const { code, out } = await aws(trail).run('grants', 'show', old.grantId);

    expect(code).toBe(0);
    expect(out).toContain(
      '3 calls made with the credential from CloudTrail event history in eu-west-1 by access key id (management events only',
    );
    expect(out).toMatch(/3d ago\s+codedeploy\s+CreateDeployment\s+allowed\s+198\.51\.100\.7\s+before\s+source identity/);
    expect(out).toMatch(/secretsmanager\s+DescribeSecret\s+refused AccessDeniedException\s+-\s+engine probe\s+access key/);
    expect(out).toMatch(/codedeploy\s+GetDeployment\s+refused AccessDenied\s+192\.0\.2\.66\s+AFTER/);
    expect(out).toContain("1 calls after revocation that were not the engine's probes: possible misuse");
    expect(out).not.toContain('note: CloudTrail delivers');
  });

  it('says CloudTrail may not have delivered the latest calls of a credential used in the last 15 minutes', async () => {
    const { out } = await aws(trail).run('grants', 'show', recent.grantId);

    expect(out).toContain(
      'note: CloudTrail delivers an event about 5 minutes after the call on average, with no guarantee (AWS CloudTrail User Guide)',
    );
    expect(out).toContain('its latest calls may not be listed yet');
  });

  it('leaves the note out for a credential that expired long ago, even if never revoked', async () => {
    const lapsed = issued('deploy-bot', 'ship-5', ['deploy-web'], 'ASIADEPLOYEXAMPLE003', '2026-11-20T09:00:00.000Z');
    const cli = aws({ ASIADEPLOYEXAMPLE003: { source: 'cloudtrail', region: 'eu-west-1', truncated: false, calls: [] } });
    cli.store.seed(lapsed);

    const { out } = await cli.run('grants', 'show', lapsed.grantId);

    expect(out).toContain('0 calls made with the credential from CloudTrail');
    expect(out).not.toContain('note: CloudTrail delivers');
  });

  it('prints ISO times, phases and ties under --json', async () => {
    const { out } = await aws(trail).run('grants', 'show', old.grantId, '--json');

    expect(JSON.parse(out).calls).toEqual({
      source: 'cloudtrail',
      region: 'eu-west-1',
      truncated: false,
      calls: [
        expect.objectContaining({
          at: '2026-11-25T09:03:00.000Z',
          action: 'codedeploy:CreateDeployment',
          phase: 'before-revocation',
          tie: 'source-identity',
        }),
        expect.objectContaining({ action: 'secretsmanager:DescribeSecret', phase: 'engine-probe', tie: 'access-key' }),
        expect.objectContaining({
          at: plus(revokedAt, 120_000),
          phase: 'after-revocation',
          errorCode: 'AccessDenied',
          sourceIp: '192.0.2.66',
        }),
      ],
    });
  });

  it('says why when CloudTrail could not be read, and still shows the grant', async () => {
    const cli = aws({ ASIADEPLOYEXAMPLE002: { source: 'unavailable', why: 'CloudTrail LookupEvents failed (AccessDeniedException)' } });

    const { code, out } = await cli.run('grants', 'show', old.grantId);

    expect(code).toBe(0);
    expect(out).toContain('calls made with the credential: not available (CloudTrail LookupEvents failed (AccessDeniedException))');
  });
});

describe('taskbound report: permissions granted but unused', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-usage-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** deploy-bot used one of deploy-web's three actions; release-bot pulled, and never pushed or branched. */
  function seeded(record: 'local-engine' | 'cloudtrail') {
    const cli = harness();
    cli.store.seed(
      issued('deploy-bot', 'ship-1', ['deploy-web'], 'ASIADEPLOYEXAMPLE001', '2026-11-28T10:00:00.000Z'),
      issued('release-bot', 'bump-1', ['repo-read', 'repo-write'], 'ASIARELEASEEXAMPLE01', '2026-11-28T10:30:00.000Z'),
    );
    const read: string[] = [];
    const calls: Record<string, ObservedCall[]> = {
      ASIADEPLOYEXAMPLE001: [call('2026-11-28T10:01:00.000Z', 'codedeploy', 'CreateDeployment')],
      ASIARELEASEEXAMPLE01: [
        call('2026-11-28T10:31:00.000Z', 'codecommit', 'GitPull'),
        call('2026-11-28T10:32:00.000Z', 'sts', 'GetCallerIdentity'),
      ],
    };
    cli.calls.record = record;
    cli.calls.reader = async (accessKeyId) => {
      read.push(accessKeyId);
      return record === 'cloudtrail'
        ? { source: 'cloudtrail', region: 'us-east-1', truncated: false, calls: calls[accessKeyId] ?? [] }
        : { source: 'local-engine', calls: calls[accessKeyId] ?? [] };
    };
    return { cli, read };
  }

  it('names, per scope and per agent, the granted actions no task used (--json)', async () => {
    const { cli } = seeded('local-engine');

    const { code, out } = await cli.run('report', '--json');

    expect(code).toBe(0);
    const { permissionUsage } = JSON.parse(out);
    expect(permissionUsage).toMatchObject({ read: true, source: 'local-engine' });
    expect(permissionUsage.usage.scopes).toEqual([
      {
        scope: 'deploy-web',
        grants: 1,
        grantsRead: 1,
        granted: ['codedeploy:CreateDeployment', 'codedeploy:GetDeployment', 'codedeploy:GetDeploymentConfig'],
        used: ['codedeploy:CreateDeployment'],
        unused: ['codedeploy:GetDeployment', 'codedeploy:GetDeploymentConfig'],
      },
      { scope: 'repo-read', grants: 1, grantsRead: 1, granted: ['codecommit:GitPull'], used: ['codecommit:GitPull'], unused: [] },
      expect.objectContaining({ scope: 'repo-write', unused: ['codecommit:CreateBranch', 'codecommit:GitPush'] }),
    ]);
    expect(permissionUsage.usage.agents['release-bot']).toHaveLength(2);
  });

  it('prints the candidates to narrow as text, with what the record cannot see', async () => {
    const { out } = await seeded('local-engine').cli.run('report');

    expect(out).toContain('== permissions granted but unused (candidates to narrow)');
    expect(out).toMatch(/deploy-web\s+1\/1\s+3\s+1\s+codedeploy:GetDeployment, codedeploy:GetDeploymentConfig/);
    expect(out).toMatch(/release-bot\s+repo-write\s+codecommit:CreateBranch, codecommit:GitPush/);
    expect(out).toContain('note: calls recorded by the local engine in its data directory');
  });

  it('on AWS reads CloudTrail only when asked with --usage, and says how to ask', async () => {
    const without = seeded('cloudtrail');
    const plain = await without.cli.run('report', '--json');

    expect(JSON.parse(plain.out).permissionUsage).toEqual({
      read: false,
      why: 'pass --usage to read each credential’s calls from CloudTrail (paced: under 2 lookups a second)',
    });
    expect(without.read).toEqual([]);

    const asked = seeded('cloudtrail');
    const withUsage = await asked.cli.run('report', '--usage', '--json');

    expect(asked.read.sort()).toEqual(['ASIADEPLOYEXAMPLE001', 'ASIARELEASEEXAMPLE01']);
    expect(JSON.parse(withUsage.out).permissionUsage).toMatchObject({ read: true, source: 'cloudtrail' });
  });

  it('puts the table in the HTML page', async () => {
    const file = join(dir, 'report.html');

    const { code } = await seeded('local-engine').cli.run('report', '--html', file);

    expect(code).toBe(0);
    const html = await readFile(file, 'utf8');
    expect(html).toContain('<table id="unused-permissions">');
    expect(html).toContain('<code>codedeploy:GetDeploymentConfig</code>');
  });
});
