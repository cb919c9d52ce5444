import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../cli/clients';
import { runCli } from '../../cli/program';
import type { EventEnvelope } from '../../lambdas/local/emulated-aws/event-bus';
import { LOCAL_CREDENTIALS } from '../../lambdas/local/host/sdk-clients';
import { AgentRuntime } from '../helpers/agent-runtime';
import { startHarness, type Harness } from './local-engine';

/** A `Grant Revoked` the alerts rule prints and, with `proof: "pending"`, the prove-revocation rule takes. */
const revoked = (grantId: string, taskId: string, extra: Record<string, unknown> = {}) => ({
  grantId,
  taskId,
  agentId: 'deploy-bot',
  at: new Date().toISOString(),
  trigger: 'leaked',
  credentialId: 'AKIAFORGEDCREDENTIAL',
  ...extra,
});

describe('local engine: only the engine speaks as the engine on the bus', () => {
  let h: Harness;
  let engineSigned: AgentRuntime;
  const seen: EventEnvelope[] = [];
  const warnings: Array<{ message: string; extra?: Record<string, unknown> }> = [];

  beforeAll(async () => {
    h = await startHarness({
      logger: { info: () => undefined, error: () => undefined, warn: (message, extra) => void warnings.push({ message, extra }) },
    });
    h.engine.bus.subscribe((envelope) => seen.push(envelope));
    engineSigned = new AgentRuntime({ endpoint: h.engine.url, credentials: LOCAL_CREDENTIALS });
  });
  afterAll(async () => {
    engineSigned.close();
    await h.stop();
  });

  it('refuses a runtime-signed taskbound event with AccessDeniedException: nothing reaches the bus, an alert or a rule', async () => {
    const grantId = 'g-forgedbyaruntimeaaaaaaaaaa';
    await expect(h.runtime.emit('Grant Revoked', revoked(grantId, 'forged-task', { proof: 'pending' }), 'taskbound')).rejects.toMatchObject(
      {
        name: 'AccessDeniedException',
        message: expect.stringMatching(
          /^User: arn:aws:iam::000000000000:user\/AKIAEXAMPLERUNTIME00 is not authorized to perform: events:PutEvents/,
        ),
      },
    );
    await expect(h.runtime.emit('Grant Decision', { grantId, decision: 'approve' }, 'taskbound.slack')).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    await h.engine.bus.idle();

    expect(seen.filter((envelope) => JSON.stringify(envelope).includes('forged-task'))).toEqual([]);
    expect(h.alerts.join('\n')).not.toContain('AKIAFORGEDCREDENTIAL');
    expect(warnings).toContainEqual({
      message: 'PutEvents refused: only the engine may send these sources',
      extra: { principal: 'arn:aws:iam::000000000000:user/AKIAEXAMPLERUNTIME00', sources: ['taskbound'] },
    });
  });

  it("passes the same event signed with the engine's key: the alerts rule prints it", async () => {
    const grantId = 'g-signedbytheengineaaaaaaaaa';
    const eventId = await engineSigned.emit('Grant Revoked', revoked(grantId, 'engine-task'), 'taskbound');
    await h.engine.bus.idle();

    expect(seen.find((envelope) => envelope.id === eventId)).toMatchObject({ source: 'taskbound', detail: { grantId } });
    expect(h.alerts.join('\n')).toContain('AKIAFORGEDCREDENTIAL');
  });

  it('still takes taskbound.cli from the CLI, signed with its own key', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (line: string) => void out.push(line), err: (line: string) => void err.push(line) };
    const code = await runCli(['--endpoint', h.engine.url, 'sweep', '--json'], {
      io,
      connect: (flags, cliIo) => connect(flags, cliIo, { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_PROFILE: '' }),
    });
    await h.engine.bus.idle();

    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(seen).toContainEqual(expect.objectContaining({ source: 'taskbound.cli', 'detail-type': 'Sweep Requested' }));
  });
});
