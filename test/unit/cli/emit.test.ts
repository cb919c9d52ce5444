import { describe, expect, it } from 'vitest';
import { transition } from '../../../lambdas/domain/grant';
import { activeGrant, harness, requestedGrant, revokedGrant } from './cli-harness';

const START = [
  'emit',
  'task-started',
  '--agent',
  'release-bot',
  '--task',
  'PR-42:deps',
  '--purpose',
  'bump lodash',
  '--requested-by',
  'alice@example.com',
];

describe('taskbound emit task-started', () => {
  it('sends a validated Task Started', async () => {
    const cli = harness();

    const { code, out } = await cli.run(
      ...START,
      ...['--scopes', 'repo-read, repo-write', '--ttl', '600', '--context', '{"pr":42}', '--wait', '0'],
    );

    expect(code).toBe(0);
    expect(out).toContain('Task Started sent for release-bot/PR-42:deps');
    expect(cli.events.sent).toEqual([
      {
        detailType: 'Task Started',
        detail: {
          taskId: 'PR-42:deps',
          agentId: 'release-bot',
          purpose: 'bump lodash',
          requestedBy: 'alice@example.com',
          scopes: ['repo-read', 'repo-write'],
          ttlSeconds: 600,
          context: { pr: 42 },
        },
      },
    ]);
  });

  it('refuses a malformed task id (exit 2), naming the flag, and sends nothing', async () => {
    const cli = harness();
    const args = [...START];
    args[args.indexOf('PR-42:deps')] = 'PR 42/deps';

    const { code, err } = await cli.run(...args, '--scopes', 'repo-read');

    expect(code).toBe(2);
    expect(err).toContain('invalid Task Started');
    expect(err).toContain('--task: taskId is 1-128 of A-Za-z0-9._:-');
    expect(cli.events.sent).toEqual([]);
  });

  it('refuses --context that is not JSON (exit 2)', async () => {
    const cli = harness();
    const { code, err } = await cli.run(...START, '--scopes', 'repo-read', '--context', '{pr:42}');
    expect(code).toBe(2);
    expect(err).toContain('--context: not valid JSON');
    expect(cli.events.sent).toEqual([]);
  });

  it('refuses --context that is JSON but not an object (exit 2)', async () => {
    const { code, err } = await harness().run(...START, '--scopes', 'repo-read', '--context', '[1,2]');
    expect(code).toBe(2);
    expect(err).toContain('--context: must be a JSON object');
  });

  it('refuses a --ttl past 12 hours, saying it is STS’s limit and that the agent’s may be lower (exit 2)', async () => {
    const cli = harness();
    const { code, err } = await cli.run(...START, '--scopes', 'repo-read', '--ttl', '50000');
    expect(code).toBe(2);
    expect(err).toContain(
      "--ttl: at most 43,200 seconds (12 hours; an aws-sts-session scope at most 3,600, STS's limit for a chained role session)",
    );
    expect(err).toContain("the agent's maxTtlSeconds in the policy may allow less");
    expect(cli.events.sent).toEqual([]);
  });

  it('refuses a --ttl that is not whole seconds, or below a minute (exit 2)', async () => {
    const cli = harness();
    expect((await cli.run(...START, '--scopes', 'repo-read', '--ttl', '10m')).err).toContain(
      '--ttl: "10m" is not a whole number of seconds',
    );
    const short = await cli.run(...START, '--scopes', 'repo-read', '--ttl', '30');
    expect(short.code).toBe(2);
    expect(short.err).toContain('--ttl:');
    expect(cli.events.sent).toEqual([]);
  });

  it('refuses more than ten scopes (exit 2)', async () => {
    const scopes = Array.from({ length: 11 }, (_, i) => `s${i}`).join(',');
    const { code, err } = await harness().run(...START, '--scopes', scopes);
    expect(code).toBe(2);
    expect(err).toContain('--scopes:');
  });

  it('requires --purpose (exit 2)', async () => {
    const { code } = await harness().run(
      'emit',
      'task-started',
      '--agent',
      'release-bot',
      '--task',
      't',
      '--requested-by',
      'a',
      '--scopes',
      'x',
    );
    expect(code).toBe(2);
  });
});

describe('taskbound emit task-ended', () => {
  it('sends Task Ended with the systems touched', async () => {
    const cli = harness();
    const { code } = await cli.run(
      'emit',
      'task-ended',
      '--agent',
      'release-bot',
      '--task',
      't-1',
      '--outcome',
      'succeeded',
      '--systems-touched',
      'codecommit,s3',
      '--wait',
      '0',
    );
    expect(code).toBe(0);
    expect(cli.events.sent).toEqual([
      {
        detailType: 'Task Ended',
        detail: { taskId: 't-1', agentId: 'release-bot', outcome: 'succeeded', systemsTouched: ['codecommit', 's3'] },
      },
    ]);
  });

  it('refuses an unknown outcome (exit 2)', async () => {
    const cli = harness();
    const { code, err } = await cli.run('emit', 'task-ended', '--agent', 'release-bot', '--task', 't-1', '--outcome', 'done');
    expect(code).toBe(2);
    expect(err).toContain('--outcome:');
    expect(cli.events.sent).toEqual([]);
  });
});

describe('taskbound emit --json', () => {
  it('prints what was sent and the event id as JSON', async () => {
    const cli = harness();
    const { code, out } = await cli.run(
      'emit',
      'task-ended',
      '--agent',
      'release-bot',
      '--task',
      't-1',
      '--outcome',
      'succeeded',
      '--wait',
      '0',
      '--json',
    );
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      sent: true,
      detailType: 'Task Ended',
      eventId: 'event-0',
      detail: { taskId: 't-1', agentId: 'release-bot', outcome: 'succeeded' },
    });
  });
});

describe("taskbound emit: the engine's answer", () => {
  const NOW = '2026-11-28T11:59:00.000Z';
  const TASK = 'PR-42:deps';

  it('waits for Task Started to be answered and says where the credential is', async () => {
    const cli = harness();
    cli.events.engine = () => void cli.store.create(activeGrant('release-bot', TASK, NOW));

    const { code, out } = await cli.run(...START, '--scopes', 'repo-read');

    expect(code).toBe(0);
    expect(out).toMatch(/^release-bot\/PR-42:deps: issued as g-[a-z2-7]{26} \(repo-read, expires in 14m\)/);
    expect(out).toContain('the runtime reads it from taskbound/release-bot/PR-42@deps');
  });

  it('says why a Task Started was denied, and exits 1', async () => {
    const cli = harness();
    const reason = 'ttlSeconds 40000 is above agent "release-bot" maximum of 1800';
    const denied = transition(requestedGrant('release-bot', TASK, NOW), {
      to: 'denied',
      at: NOW,
      actor: 'taskbound',
      action: 'denied',
      reason,
      changes: { reason },
    });
    cli.events.engine = () => void cli.store.create(denied);

    const { code, out } = await cli.run(...START, '--scopes', 'repo-read', '--ttl', '40000');

    expect(code).toBe(1);
    expect(out).toContain('release-bot/PR-42:deps: denied before any credential was issued: ttlSeconds 40000 is above');
  });

  it.each([
    ['the local engine', 'local-engine', '--as PERSON --reason'],
    ['AWS', 'cloudtrail', '--reason'],
  ] as const)('returns once a grant waits for approval, naming the command that decides it on %s', async (_, record, flags) => {
    const cli = harness();
    cli.calls.record = record;
    const pending = transition(
      { ...requestedGrant('deploy-bot', TASK, NOW), eligibleApprovers: ['lead@example.com'] },
      { to: 'pending_approval', at: NOW, actor: 'taskbound', action: 'approval-requested' },
    );
    cli.events.engine = () => void cli.store.create(pending);
    const args = [...START];
    args[args.indexOf('release-bot')] = 'deploy-bot';

    const { code, out } = await cli.run(...args, '--scopes', 'deploy-web');

    expect(code).toBe(0);
    expect(out).toContain(`waiting for approval as ${pending.grantId}`);
    expect(out).toContain(`taskbound approve ${pending.grantId} ${flags} …`);
    // Locally a decision is signed as a person of the policy (--as): the hint says which may decide.
    expect(out.includes('one of lead@example.com decides')).toBe(record === 'local-engine');
  });

  it('exits 1 when the engine has not answered within --wait, saying how to follow it', async () => {
    const cli = harness();

    const { code, out, err } = await cli.run(...START, '--scopes', 'repo-read', '--wait', '1');

    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain('release-bot/PR-42:deps is not recorded after 1s');
    expect(err).toContain('taskbound grants show g-');
  });

  it('waits for Task Ended until the credential is proven dead', async () => {
    const cli = harness();
    const active = activeGrant('release-bot', TASK, NOW);
    await cli.store.create(active);
    cli.events.engine = () =>
      void cli.store.update(
        active,
        revokedGrant(active, { noticeAt: '2026-11-28T12:00:00.000Z', revokedAfterMs: 20, verifiedAfterMs: 15 }),
      );

    const { code, out } = await cli.run('emit', 'task-ended', '--agent', 'release-bot', '--task', TASK, '--outcome', 'succeeded');

    expect(code).toBe(0);
    expect(out).toBe('release-bot/PR-42:deps: revoked and verified dead 35 ms after notice (task_ended)');
  });

  it('says when the engine had answered the task before: a duplicate it ignores', async () => {
    const cli = harness();
    await cli.store.create(activeGrant('release-bot', TASK, NOW));

    const { code, out } = await cli.run(...START, '--scopes', 'repo-read', '--json');

    expect(code).toBe(0);
    const printed = JSON.parse(out);
    expect(printed).toMatchObject({ sent: true, waited: true, answered: true, duplicate: true, state: 'active' });
    expect(printed.outcome).toContain('(a duplicate: the engine had answered this task before)');
    expect(cli.events.sent).toHaveLength(1);
  });
});
