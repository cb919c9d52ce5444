import { describe, expect, it, vi } from 'vitest';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { activeGrant, CALLER, harness, requestedGrant, revokedGrant } from './cli-harness';
import { outcomeOf } from '../../../cli/commands/revoke';
import { runCli } from '../../../cli/program';

const GRANT = grantIdFor('release-bot', 't-1');
const NOTICE = '2026-11-28T12:00:00.000Z';

/** release-bot's grant t-1 as the engine leaves it once `trigger` revoked it and it was proven dead. */
const revokedT1 = (trigger: 'suspended' | 'manual') =>
  revokedGrant(activeGrant('release-bot', 't-1'), { trigger, noticeAt: NOTICE, revokedAfterMs: 40, verifiedAfterMs: 60 });

/** A harness holding one active grant of release-bot; `engineActs` makes the "engine" revoke it when asked. */
function withActiveGrant(engineActs = true) {
  const cli = harness();
  cli.store.seed(activeGrant('release-bot', 't-1'));
  if (engineActs) {
    cli.events.engine = (event) => {
      if (event.detailType === 'Grant Revocation Requested' || event.detailType === 'Agent Suspended') {
        const trigger = event.detailType === 'Agent Suspended' ? 'suspended' : 'manual';
        cli.store.seed(revokedT1(trigger));
      }
      if (event.detailType === 'Agent Suspended')
        void cli.store.putAgent({ agentId: 'release-bot', suspended: true, by: CALLER, reason: 'prompt injection', at: NOTICE });
    };
  }
  return cli;
}

describe('taskbound revoke', () => {
  it('asks for a manual revocation in the name of the caller and prints what the engine did', async () => {
    const cli = withActiveGrant();

    const { code, out } = await cli.run('revoke', GRANT, '--reason', 'suspicious activity');

    expect(code).toBe(0);
    expect(out).toBe(`${GRANT} revoked and verified dead 100 ms after notice (manual)`);
    expect(cli.events.sent).toEqual([
      { detailType: 'Grant Revocation Requested', detail: { grantId: GRANT, by: CALLER, reason: 'suspicious activity' } },
    ]);
  });

  it('prints the outcome as JSON with --json', async () => {
    const { code, out } = await withActiveGrant().run('revoke', GRANT, '--reason', 'r', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      grantId: GRANT,
      sent: true,
      waited: true,
      settled: true,
      state: 'verified',
      grant: { verifiedAt: '2026-11-28T12:00:00.100Z' },
    });
  });

  it('fails (exit 1) saying what to do when the engine does not act within --wait', async () => {
    const cli = withActiveGrant(false);
    const { code, err } = await cli.run('revoke', GRANT, '--reason', 'r', '--wait', '2');
    expect(code).toBe(1);
    expect(err).toContain(`${GRANT} is still active after 2s`);
    expect(err).toContain(`taskbound grants show ${GRANT}`);
  });

  it('sends and returns at once with --wait 0', async () => {
    const { code, out } = await withActiveGrant(false).run('revoke', GRANT, '--reason', 'r', '--wait', '0');
    expect(code).toBe(0);
    expect(out).toBe(`revocation of ${GRANT} requested (event event-0)`);
  });

  it('sends nothing for a grant it cannot find (exit 1)', async () => {
    const cli = harness();
    const { code, err } = await cli.run('revoke', GRANT, '--reason', 'r');
    expect(code).toBe(1);
    expect(err).toContain(`no grant ${GRANT}`);
    expect(cli.events.sent).toEqual([]);
  });

  it('names someone else with --as', async () => {
    const cli = withActiveGrant();
    await cli.run('revoke', GRANT, '--reason', 'r', '--as', 'oncall@example.com');
    expect(cli.events.sent[0]?.detail).toMatchObject({ by: 'oncall@example.com' });
  });

  it('requires --reason (exit 2) and sends nothing', async () => {
    const cli = harness();
    const { code, err } = await cli.run('revoke', GRANT);
    expect(code).toBe(2);
    expect(err).toContain("required option '--reason <reason>' not specified");
    expect(cli.events.sent).toEqual([]);
  });

  it('refuses a blank reason (exit 2)', async () => {
    const cli = harness();
    const { code, err } = await cli.run('revoke', GRANT, '--reason', '  ');
    expect(code).toBe(2);
    expect(err).toContain('--reason:');
    expect(cli.events.sent).toEqual([]);
  });

  it('fails with exit 1 and the error code when PutEvents rejects the entry', async () => {
    const cli = withActiveGrant();
    cli.events.reject = { errorCode: 'AccessDeniedException', errorMessage: 'not authorized' };

    const { code, err } = await cli.run('revoke', GRANT, '--reason', 'r');

    expect(code).toBe(1);
    expect(err).toContain('Grant Revocation Requested was not accepted: AccessDeniedException (not authorized)');
  });

  it('refuses an empty --as (exit 2)', async () => {
    const cli = harness();
    const { code, err } = await cli.run('revoke', GRANT, '--reason', 'r', '--as', '');
    expect(code).toBe(2);
    expect(err).toContain('--as:');
  });

  it('fails with exit 1 when the caller cannot be identified, and sends nothing', async () => {
    const cli = harness(async () => {
      throw Object.assign(new Error('The security token included in the request is invalid.'), { name: 'InvalidClientTokenId' });
    });
    const { code, err } = await cli.run('revoke', GRANT, '--reason', 'r');
    expect(code).toBe(1);
    expect(err).toContain('InvalidClientTokenId');
    expect(cli.events.sent).toEqual([]);
  });
});

describe('taskbound suspend and resume', () => {
  it('sends Agent Suspended with the reason and waits until every live grant is dead', async () => {
    const cli = withActiveGrant();
    const { code, out } = await cli.run('suspend', 'release-bot', '--reason', 'prompt injection');
    expect(code).toBe(0);
    expect(cli.events.sent).toEqual([
      { detailType: 'Agent Suspended', detail: { agentId: 'release-bot', by: CALLER, reason: 'prompt injection' } },
    ]);
    expect(out).toContain(`release-bot suspended by ${CALLER}`);
    expect(out).toMatch(new RegExp(`${GRANT}\\s+t-1\\s+verified\\s+revoked and verified dead 100 ms after notice \\(suspended\\)`));
  });

  it("while it waits, reads each live grant by id instead of listing the agent's grants every poll", async () => {
    const cli = withActiveGrant(false);
    cli.events.engine = (event) => {
      if (event.detailType === 'Agent Suspended')
        void cli.store.putAgent({ agentId: 'release-bot', suspended: true, by: CALLER, reason: 'r', at: NOTICE });
    };
    const listings = vi.spyOn(cli.store, 'grantsOfAgent');
    const read = cli.store.get.bind(cli.store);
    // The "engine" revokes the grant only after the CLI has polled three times.
    const reads = vi.spyOn(cli.store, 'get').mockImplementation(async (grantId: string) => {
      if (reads.mock.calls.length === 3) cli.store.seed(revokedT1('suspended'));
      return read(grantId);
    });

    const { code } = await cli.run('suspend', 'release-bot', '--reason', 'r');

    expect(code).toBe(0);
    expect(listings).toHaveBeenCalledTimes(1);
    expect(reads.mock.calls.length).toBeGreaterThanOrEqual(3);
  });

  it('sees a suspension thrown again at an agent already suspended once the engine records the repeat, and says so', async () => {
    const cli = withActiveGrant(false);
    await cli.store.recordSuspension({ agentId: 'release-bot', by: 'sre@example.com', reason: 'leak', at: NOTICE });
    cli.events.engine = (event) => {
      if (event.detailType === 'Agent Suspended')
        void cli.store.recordSuspension({ agentId: 'release-bot', by: CALLER, reason: 'still odd', at: '2026-11-28T12:00:30.000Z' });
      cli.store.seed(revokedT1('suspended'));
    };

    const { code, out } = await cli.run('suspend', 'release-bot', '--reason', 'still odd', '--wait', '2');

    expect(code).toBe(0);
    expect(out).toContain(`release-bot suspended by sre@example.com`);
    expect(out).toContain(`: leak; thrown again once, last by ${CALLER}`);
  });

  it('refuses an agent neither the policy nor the store knows (exit 2), sending nothing', async () => {
    const cli = harness();
    const { code, err } = await cli.run('suspend', 'no-such-bot', '--reason', 'r');
    expect(code).toBe(2);
    expect(err).toContain('agent "no-such-bot" is not in the policy');
    expect(cli.events.sent).toEqual([]);
  });

  it('refuses an agent the policy does not know whose only grants were denied (exit 2), instead of waiting for a refusal', async () => {
    const cli = harness();
    cli.store.seed({ ...requestedGrant('no-such-bot', 't-1'), state: 'denied' as const, reason: 'agent "no-such-bot" is not registered' });

    const { code, err } = await cli.run('suspend', 'no-such-bot', '--reason', 'r');

    expect(code).toBe(2);
    expect(err).toContain('agent "no-such-bot" is not in the policy');
    expect(cli.events.sent).toEqual([]);
  });

  it('resumes through the operator endpoint, never the bus, and prints the answer', async () => {
    const cli = harness();
    cli.operator.answer = { status: 200, body: { outcome: 'resumed', agentId: 'release-bot', person: 'sre@example.com' } };
    const { code, out } = await cli.run('resume', 'release-bot', '--reason', 'false alarm');
    expect(code).toBe(0);
    expect(out).toBe('agent release-bot resumed as sre@example.com');
    expect(cli.operator.sent.map((call) => call.request)).toEqual([{ action: 'resume', agentId: 'release-bot', reason: 'false alarm' }]);
    expect(cli.events.sent).toEqual([]);
  });

  it('requires a reason to resume (exit 2)', async () => {
    const { code, err } = await harness().run('resume', 'release-bot');
    expect(code).toBe(2);
    expect(err).toContain("required option '--reason <reason>' not specified");
  });

  it('refuses a malformed agent id (exit 2)', async () => {
    const cli = harness();
    const { code, err } = await cli.run('suspend', 'Release_Bot', '--reason', 'r');
    expect(code).toBe(2);
    expect(err).toContain('AGENT: agentId is lower-case letters, digits and dashes');
  });
});

describe('taskbound approve and deny', () => {
  it('sends each decision to the operator endpoint, never the bus, with the flags that choose who signs', async () => {
    const cli = harness();
    await cli.run(
      '--endpoint',
      'http://127.0.0.1:4010',
      'approve',
      GRANT,
      '--as',
      'lead@example.com',
      '--reason',
      'reviewed the diff',
      '--data-dir',
      '/tmp/tb',
    );
    await cli.run('deny', GRANT, '--reason', 'not during the freeze', '--operator-url', 'https://x.lambda-url.eu-west-1.on.aws/');
    // Before the command too, as the other global flags: one alias serves every command.
    await cli.run('--data-dir', '/tmp/tb2', 'resume', 'release-bot', '--as', 'lead@example.com', '--reason', 'fixed');
    expect(cli.operator.sent).toEqual([
      {
        request: { action: 'approve', grantId: GRANT, reason: 'reviewed the diff' },
        flags: expect.objectContaining({ as: 'lead@example.com', dataDir: '/tmp/tb', endpoint: 'http://127.0.0.1:4010' }),
      },
      {
        request: { action: 'deny', grantId: GRANT, reason: 'not during the freeze' },
        flags: expect.objectContaining({ operatorUrl: 'https://x.lambda-url.eu-west-1.on.aws/' }),
      },
      {
        request: { action: 'resume', agentId: 'release-bot', reason: 'fixed' },
        flags: expect.objectContaining({ as: 'lead@example.com', dataDir: '/tmp/tb2' }),
      },
    ]);
    expect(cli.events.sent).toEqual([]);
  });

  it('prints a counted approval with how many remain, and exits 0', async () => {
    const { code, out } = await harness().run('approve', GRANT, '--reason', 'ok');
    expect(code).toBe(0);
    expect(out).toBe(`approval of grant ${GRANT} as lead@example.com counted; 1 more approval(s) needed`);
  });

  it('prints a refusal with the engine’s reason and exits 1', async () => {
    const cli = harness();
    cli.operator.answer = {
      status: 403,
      body: { outcome: 'refused', reason: 'sre@example.com owns agent "deploy-bot" and may not decide its grants', grantId: GRANT },
    };
    const { code, err } = await cli.run('approve', GRANT, '--reason', 'ok');
    expect(code).toBe(1);
    expect(err).toBe(`taskbound: approve of grant ${GRANT} refused: sre@example.com owns agent "deploy-bot" and may not decide its grants`);
  });

  it('prints the answer as JSON with --json', async () => {
    const cli = harness();
    cli.operator.answer = { status: 200, body: { outcome: 'issued', grantId: GRANT, person: 'lead@example.com' } };
    const { code, out } = await cli.run('approve', GRANT, '--reason', 'ok', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ outcome: 'issued', grantId: GRANT, person: 'lead@example.com' });
  });

  it('refuses a missing reason or a malformed grant id before sending anything (exit 2)', async () => {
    const cli = harness();
    expect((await cli.run('approve', GRANT)).code).toBe(2);
    expect((await cli.run('deny', 'not-a-grant', '--reason', 'x')).code).toBe(2);
    expect(cli.operator.sent).toEqual([]);
  });
});

describe('taskbound sweep', () => {
  it('sends Sweep Requested naming the caller, and says when nothing was due', async () => {
    const cli = harness();
    const { code, out } = await cli.run('sweep');
    expect(code).toBe(0);
    expect(out).toBe('sweep requested; no grant was due');
    expect(cli.events.sent).toEqual([{ detailType: 'Sweep Requested', detail: { requestedBy: CALLER } }]);
  });

  it('waits until each due grant was handled and prints what became of it', async () => {
    const cli = harness();
    const due = revokedGrant(activeGrant('release-bot', 't-1'), { noticeAt: '2026-11-28T11:00:00.000Z', revokedAfterMs: 10 });
    cli.store.seed(due);
    cli.events.engine = () =>
      cli.store.seed(
        revokedGrant(activeGrant('release-bot', 't-1'), { noticeAt: '2026-11-28T11:00:00.000Z', revokedAfterMs: 10, verifiedAfterMs: 5 }),
      );

    const { code, out } = await cli.run('sweep', '--json');

    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      sent: true,
      settled: true,
      due: 1,
      grants: [{ grantId: GRANT, was: 'revoked', now: 'verified', handled: true }],
    });
  });

  it('refuses a blank --as (exit 2)', async () => {
    const cli = harness();
    expect((await cli.run('sweep', '--as', ' ')).code).toBe(2);
    expect(cli.events.sent).toEqual([]);
  });
});

describe('taskbound usage', () => {
  it('exits 2 on an unknown command', async () => {
    const { code, err } = await harness().run('revokee', GRANT);
    expect(code).toBe(2);
    expect(err).toContain("unknown command 'revokee'");
  });

  it('names why the operator endpoint could not be reached, not fetch\'s bare "fetch failed"', async () => {
    const cli = harness();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4010'), { code: 'ECONNREFUSED' });
    cli.operator.send = async () => {
      throw new TypeError('fetch failed', { cause: refused });
    };

    const { code, err } = await cli.run('approve', GRANT, '--as', 'lead@example.com', '--reason', 'ok');

    expect(code).toBe(1);
    expect(err.split('\n')).toEqual([
      'taskbound: connect ECONNREFUSED 127.0.0.1:4010',
      '  nothing answers at the endpoint: start the local engine with `npm start`, or check --endpoint',
    ]);
  });

  it('says in --help that credentials and serve-credentials stop after 60 s when there is no delivery at all', async () => {
    // credentialForTask caps the wait for a first delivery at 60 s (the SDK's deliveryTimeoutMs), whatever --timeout says.
    for (const command of ['credentials', 'serve-credentials']) {
      const { code, out } = await harness().run(command, '--help');
      expect(code).toBe(0);
      expect(out.replace(/\s+/g, ' ')).toContain(
        '(default 900); with no delivery at all (task not started or ended, agent unknown) after 60 at most',
      );
    }
  });

  it("prefixes commander's usage errors with taskbound:, as every other error", async () => {
    const unknownCommand = await harness().run('revokee', GRANT);
    const missingOption = await harness().run('revoke', GRANT);
    const unknownOption = await harness().run('grants', 'list', '--agnet', 'release-bot');

    expect(unknownCommand.err).toMatch(/^taskbound: unknown command 'revokee'/);
    expect(missingOption.err).toMatch(/^taskbound: required option '--reason <reason>' not specified/);
    expect(unknownOption.err).toMatch(/^taskbound: unknown option '--agnet'/);
  });

  it('exits 2 with no command at all', async () => {
    expect((await harness().run()).code).toBe(2);
  });

  it('exits 0 on --help', async () => {
    const { code, out } = await harness().run('--help');
    expect(code).toBe(0);
    expect(out).toContain('Usage: taskbound');
  });

  it('exits 0 when asked for help with the help command, for the program or a command', async () => {
    const program = await harness().run('help');
    const grants = await harness().run('help', 'grants');
    expect(program.code).toBe(0);
    expect(program.out).toContain('Usage: taskbound');
    expect(grants.code).toBe(0);
    expect(grants.out).toContain('Usage: taskbound grants');
  });

  it('prints the version it is given with --version and -V (exit 0)', async () => {
    const out: string[] = [];
    const io = { out: (line: string) => void out.push(line), err: (line: string) => void out.push(line) };
    const connect = () => {
      throw new Error('--version needs no connection');
    };

    expect(await runCli(['--version'], { io, connect, version: '1.2.3' })).toBe(0);
    expect(await runCli(['-V'], { io, connect, version: '1.2.3' })).toBe(0);
    expect(out).toEqual(['1.2.3', '1.2.3']);
  });

  it('exits 2 with the help on stderr for a command group without its subcommand', async () => {
    const { code, out, err } = await harness().run('grants');
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain('Usage: taskbound grants');
  });

  it('exits 1 when the store cannot be read', async () => {
    const cli = harness();
    cli.store.listGrants = async () => {
      throw Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
    };
    const { code, err } = await cli.run('grants', 'list');
    expect(code).toBe(1);
    expect(err.split('\n')[0]).toBe('taskbound: ResourceNotFoundException: Requested resource not found');
  });
});

describe('what became of a credential, in one line', () => {
  const denied = (reason: string) => ({ ...requestedGrant('release-bot', 't-2'), state: 'denied' as const, reason });

  it('says a denied grant issued nothing, once', () => {
    expect(outcomeOf(denied('scope deploy-web is not allowed for release-bot'))).toBe(
      'denied before any credential was issued: scope deploy-web is not allowed for release-bot',
    );
    expect(outcomeOf(denied('suspended before a credential was issued: agent suspended: drill'))).toBe(
      'denied: suspended before a credential was issued: agent suspended: drill',
    );
  });
});
