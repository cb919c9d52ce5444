import { describe, expect, it, vi } from 'vitest';

// As in Lambda, where metrics are on: set before the handler modules build their Metrics.
vi.hoisted(() => {
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'taskbound-task-ended';
});

import { fakeEngine, taskStarted } from '../../helpers/fake-engine';
import { envelope, handlersOver, invoke } from './handler-harness';

describe('revocation latency metric', () => {
  it('is published in EMF once a revocation is verified, and not before', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line.startsWith('{')),
      );
      return true;
    });
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    await invoke(handlers, 'task-started', envelope('Task Started', taskStarted()));
    expect(lines.filter((line) => line.includes('RevocationLatency'))).toEqual([]);
    // The probe takes 250 ms: notice (Task Ended) to verification is then exactly that.
    const verify = engine.sessions.verify.bind(engine.sessions);
    engine.sessions.verify = async (target, material) => {
      engine.clock.advance(250);
      return verify(target, material);
    };
    await invoke(handlers, 'task-ended', envelope('Task Ended', { agentId: 'release-bot', taskId: 'task-1', outcome: 'succeeded' }));
    spy.mockRestore();
    const emf = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => 'RevocationLatency' in entry);
    expect(emf).toMatchObject({ RevocationLatency: 250, service: 'taskbound' });
    expect(JSON.stringify(emf)).toContain('"Unit":"Milliseconds"');
  });
});
