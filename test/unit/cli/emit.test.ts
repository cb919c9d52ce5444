import { describe, expect, it } from 'vitest';
import { harness } from './cli-harness';

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

    const { code, out } = await cli.run(...START, '--scopes', 'repo-read, repo-write', '--ttl', '600', '--context', '{"pr":42}');

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
