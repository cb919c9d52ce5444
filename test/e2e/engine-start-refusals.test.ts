import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineRefusal, freeLoopbackPort, startEngineProcess, type EngineProcess } from './engine-process';

describe('starting a second local engine where one already runs', () => {
  let dataDir: string;
  let otherDataDir: string;
  let port: number;
  let running: EngineProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taskbound-refusals-'));
    otherDataDir = await mkdtemp(join(tmpdir(), 'taskbound-refusals-other-'));
    port = await freeLoopbackPort();
    running = await startEngineProcess({ dataDir, port });
  }, 60_000);

  afterAll(async () => {
    await running.kill();
    await rm(dataDir, { recursive: true, force: true });
    await rm(otherDataDir, { recursive: true, force: true });
  });

  it('stops at once on a data directory in use, saying another engine may hold it', async () => {
    const second = await engineRefusal({ dataDir, port: await freeLoopbackPort() });

    expect(second.code).toBe(1);
    expect(second.output).toMatch(/is another Taskbound engine using this data directory\?/);
  }, 60_000);

  it('stops at once on a port in use, saying how to choose another', async () => {
    const second = await engineRefusal({ dataDir: otherDataDir, port });

    expect(second.code).toBe(1);
    expect(second.output).toMatch(/EADDRINUSE.*choose one with --port or PORT/);
  }, 60_000);

  it('leaves the running engine serving', async () => {
    const answer = await fetch(`${running.url}/healthz`);

    expect(answer.status).toBe(200);
  });
});
