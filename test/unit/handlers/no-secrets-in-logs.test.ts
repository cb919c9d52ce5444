import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Everything the handlers can log, logged: set before the handler modules build their logger.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

import { fakeEngine, taskStarted } from '../../helpers/fake-engine';
import { envelope, handlersOver, invoke } from './handler-harness';
import { engineLogger } from '../../../lambdas/composition/logger';

describe('logs and alerts never carry secret material', () => {
  const written: string[] = [];
  beforeEach(() => {
    written.length = 0;
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    vi.spyOn(console, 'log').mockImplementation((...args) => void written.push(args.join(' ')));
    vi.spyOn(console, 'info').mockImplementation((...args) => void written.push(args.join(' ')));
    vi.spyOn(console, 'warn').mockImplementation((...args) => void written.push(args.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...args) => void written.push(args.join(' ')));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('across a whole lifecycle: issue, approve, leak, suspend, expire, sweep', async () => {
    const engine = { ...fakeEngine(), logger: engineLogger };
    const alerts: string[] = [];
    const handlers = handlersOver(engine, (line) => alerts.push(line));
    const run = (name: Parameters<typeof invoke>[1], type: string, detail: unknown) =>
      invoke(handlers, name, envelope(type, detail, 'taskbound.cli'));

    await run('task-started', 'Task Started', taskStarted());
    await run('task-started', 'Task Started', taskStarted({ agentId: 'deploy-bot', taskId: 'key', scopes: ['bucket-read-key'] }));
    const key = engine.vault.secrets.get('taskbound/deploy-bot/key')!.payload;
    await run('credential-leaked', 'Credential Leaked', { credentialId: key.accessKeyId, reportedBy: 'scanner' });
    await run('task-started', 'Task Started', taskStarted({ agentId: 'deploy-bot', taskId: 'ship', scopes: ['deploy-web'] }));
    await run('grant-decision', 'Grant Decision', {
      agentId: 'deploy-bot',
      taskId: 'ship',
      decision: 'approve',
      approver: 'lead@example.com',
      reason: 'ok',
    });
    await run('agent-status', 'Agent Suspended', { agentId: 'deploy-bot', by: 'secops', reason: 'drill' });
    await run('task-ended', 'Task Ended', { agentId: 'release-bot', taskId: 'task-1', outcome: 'succeeded' });
    for (const event of engine.events.published)
      await handlers.alerts(envelope(event.detailType, event.detail, 'taskbound'), {} as never, { signal: new AbortController().signal });

    const everything = [...written, ...alerts, JSON.stringify(engine.events.published), JSON.stringify(engine.store.rejected)].join('\n');
    expect(written.length).toBeGreaterThan(5);
    expect(alerts.length).toBeGreaterThan(3);
    expect(everything).not.toMatch(/do-not-log/);
    expect(everything).not.toMatch(/secretAccessKey|sessionToken/i);
  });
});
