// `npm run demo`: an agent scenario played against a local engine, end to end, over the AWS
// protocols only. It prints what happened and exits 0 only if every step really happened.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

const { startLocalEngine, LOCAL_TABLE } = await import('../lambdas/local/engine');
const { DynamoDbGrantStore } = await import('../lambdas/adapters/aws/dynamodb-grant-store');
const { localClientConfig } = await import('../lambdas/local/host/sdk-clients');
const { grantIdFor } = await import('../lambdas/domain/ids');
const { verifyChain } = await import('../lambdas/domain/audit');
const { AgentRuntime } = await import('../test/helpers/agent-runtime');
const { runCli } = await import('../cli/program');
const { connect } = await import('../cli/clients');

const IAM_LAG_MS = 6_000;
const steps: { name: string; ok: boolean; detail: string }[] = [];
const seen: { type: string; grantId: string; at: number; detail: Record<string, unknown> }[] = [];
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const say = (line = '') => console.log(line);
const dim = (text: string) => `\x1b[2m${text}\x1b[0m`;

function check(name: string, ok: boolean, detail: string): void {
  steps.push({ name, ok, detail });
  say(`${ok ? '  ✓' : '  ✗'} ${name}${detail ? dim(` — ${detail}`) : ''}`);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `until`, asking for a sweep every half second meanwhile (the demo's engine sweeps only when asked). */
async function sweepUntil<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  let nextSweep = 0;
  return until(what, async () => {
    const value = await probe();
    if (value === undefined && Date.now() >= nextSweep) {
      nextSweep = Date.now() + 500;
      await runtime.emit('Sweep Requested', { requestedBy: 'demo' });
    }
    return value;
  });
}

const dataDir = await mkdtemp(join(tmpdir(), 'taskbound-demo-'));
const engine = await startLocalEngine({
  dataDir,
  policyFile: resolve(import.meta.dirname, 'taskbound.policy.yaml'),
  port: 0,
  sweepIntervalMs: 0,
  accessKeyRevocationLagMs: IAM_LAG_MS,
  probeSchedule: { attempts: 2, delayMs: 250 },
  dueTiming: { retryAfterMs: 1_000 },
  print: (block) =>
    say(
      dim(
        block
          .split('\n')
          .map((line) => `      │ ${line}`)
          .join('\n'),
      ),
    ),
});
engine.bus.subscribe((event) => {
  if (event.source !== 'taskbound') return;
  const detail = event.detail as Record<string, unknown>;
  seen.push({ type: event['detail-type'], grantId: String(detail.grantId), at: Date.now(), detail });
  say(dim(`    ← ${event['detail-type']} ${detail.agentId}/${detail.taskId}${detail.reason ? `: ${detail.reason}` : ''}`));
});
const runtime = new AgentRuntime({ endpoint: engine.url });
const dynamo = new DynamoDBClient(localClientConfig(engine.url));
const grants = new DynamoDbGrantStore({ client: dynamo, tableName: LOCAL_TABLE });
const grantOf = (agentId: string, taskId: string) => grants.get(grantIdFor(agentId, taskId));
const sawEvent = (type: string, agentId: string, taskId: string) =>
  seen.find((e) => e.type === type && e.grantId === grantIdFor(agentId, taskId));
const task = (agentId: string, taskId: string, scopes: string[], extra: Record<string, unknown> = {}) =>
  runtime.startTask({ agentId, taskId, purpose: `demo: ${taskId}`, requestedBy: 'dev@example.com', scopes, ...extra });

/** `taskbound --endpoint <engine> ARGV` as an operator types it; decisions sign with the engine's key for `--as`. */
async function taskbound(...argv: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const io = { out: (line: string) => void lines.push(line), err: (line: string) => void lines.push(line) };
  const code = await runCli(['--endpoint', engine.url, ...argv], { io, connect: (flags, cliIo) => connect(flags, cliIo) });
  say(dim(`    $ taskbound ${argv.join(' ')}\n      ${lines.join('\n      ')}`));
  return { code, text: lines.join('\n') };
}
const asPerson = (person: string) => ['--as', person, '--data-dir', dataDir];

say(`Taskbound demo — local engine on ${engine.url} (state in ${dataDir})`);
say(dim(`An agent runtime talks to it with the AWS SDK only: PutEvents, GetSecretValue, GetCallerIdentity.`));

try {
  say('\n1. A task whose credential will simply expire (ttlSeconds 60, the minimum)');
  await task('release-bot', 'nightly-audit', ['repo-read'], { ttlSeconds: 60 });
  const expiring = await runtime.waitForDelivery('release-bot', 'nightly-audit', ['issued', 'denied']);
  check('issued a 60-second credential', expiring.status === 'issued', `expires ${expiring.expiration}`);

  say('\n2. Auto-approved: release-bot reads the web repo');
  await task('release-bot', 'bump-lodash', ['repo-read']);
  const used = await runtime.waitForDelivery('release-bot', 'bump-lodash', ['issued', 'denied']);
  const identity = await runtime.whoAmI(used);
  check(
    'issued and used (STS GetCallerIdentity with it works)',
    used.status === 'issued' && identity.ok,
    identity.ok ? identity.arn : identity.code,
  );

  say('\n3. Held for approval: deploy-bot wants to deploy (deploy needs one approver)');
  await task('deploy-bot', 'ship-1.4.2', ['deploy-web']);
  const pending = await runtime.waitForDelivery('deploy-bot', 'ship-1.4.2', ['pending_approval', 'issued', 'denied']);
  check('held for approval', pending.status === 'pending_approval', 'the runtime reads status pending_approval');
  await runtime.emit(
    'Grant Decision',
    { grantId: pending.grantId, decision: 'approve', approver: 'lead@example.com', reason: 'forged' },
    'taskbound.cli',
  );
  await until('the forged approval to be refused', async () => sawEvent('Grant Decision Refused', 'deploy-bot', 'ship-1.4.2'));
  check(
    'an approval put on the bus never counts, whoever it names',
    (await grantOf('deploy-bot', 'ship-1.4.2'))?.state === 'pending_approval',
    'refused and recorded',
  );
  const owner = await taskbound('approve', pending.grantId, ...asPerson('sre@example.com'), '--reason', 'looks fine');
  check('the agent’s owner may not approve (separation of duties)', owner.code === 1, 'sre@example.com owns deploy-bot: exit 1');
  const lead = await taskbound('approve', pending.grantId, ...asPerson('lead@example.com'), '--reason', 'release train 1.4');
  check('lead@example.com approves through the SigV4-authenticated operator endpoint', lead.code === 0, '');
  const deployed = await runtime.waitForDelivery('deploy-bot', 'ship-1.4.2', ['issued', 'denied']);
  check('approved by lead@example.com, then issued', deployed.status === 'issued' && (await runtime.whoAmI(deployed)).ok, '');

  say('\n4. Task ended: the credential dies and the engine proves it');
  const endedAt = Date.now();
  await runtime.endTask({ agentId: 'release-bot', taskId: 'bump-lodash', outcome: 'succeeded', systemsTouched: ['codecommit:web'] });
  const code = await runtime.waitUntilRejected(used);
  const verified = await until('verification', async () =>
    (await grantOf('release-bot', 'bump-lodash'))?.state === 'verified' ? true : undefined,
  );
  const chain = (await grantOf('release-bot', 'bump-lodash'))!;
  check(
    'revoked on Task Ended and verified dead',
    verified && code === 'InvalidClientTokenId',
    `${code} after ${Date.now() - endedAt} ms; audit chain ${verifyChain(chain.grantId, chain.audit).ok ? 'intact' : 'BROKEN'} (${chain.audit.length} entries)`,
  );

  say(`\n5. A leaked access key; IAM takes seconds to forget a deleted key (emulated: ${IAM_LAG_MS / 1000} s)`);
  await task('ops-bot', 'upload-report', ['reports-upload-key']);
  const key = await runtime.waitForDelivery('ops-bot', 'upload-report', ['issued', 'denied']);
  check('issued an IAM access key', key.status === 'issued' && key.kind === 'aws-iam-access-key', key.accessKeyId ?? '');
  await runtime.emit('Credential Leaked', {
    credentialId: key.accessKeyId,
    reportedBy: 'secret-scanner',
    evidence: 'found in a public gist',
  });
  await until('the revocation', async () => sawEvent('Grant Revoked', 'ops-bot', 'upload-report'));
  check('revoked at once on the leak report', true, `but it still works: ${(await runtime.whoAmI(key)).ok}`);
  // The proof was handed on (prove-revocation probes a little longer, then leaves the grant `revoked`,
  // due again a second later): sweep as the engine's timer would, until a sweep finds it due.
  const still = await sweepUntil('the sweep to catch it', async () => sawEvent('Credential Still Valid', 'ops-bot', 'upload-report'));
  check(
    'the sweep caught the key still valid after the notice, and revoked it again',
    true,
    `valid ${still.detail.stillValidAfterNoticeMs} ms after the leak report`,
  );
  const keyDead = await runtime.waitUntilRejected(key, IAM_LAG_MS + 5_000, 200);
  const keyVerified = await sweepUntil('the key to be verified dead', async () =>
    (await grantOf('ops-bot', 'upload-report'))?.state === 'verified' ? true : undefined,
  );
  check('then verified dead', keyVerified, keyDead);

  say('\n6. The kill switch: deploy-bot is suspended');
  await runtime.emit('Agent Suspended', { agentId: 'deploy-bot', by: 'secops@example.com', reason: 'unexpected API calls' });
  const suspendedCode = await runtime.waitUntilRejected(deployed);
  check('its live grant was revoked', true, suspendedCode);
  await task('deploy-bot', 'ship-1.4.3', ['repo-read']);
  const refused = await runtime.waitForDelivery('deploy-bot', 'ship-1.4.3', ['denied', 'issued']);
  check('a new task is denied while suspended', refused.status === 'denied', refused.reason ?? '');
  const resumed = await taskbound('resume', 'deploy-bot', ...asPerson('lead@example.com'), '--reason', 'false alarm');
  check('resumed by an authenticated person', resumed.code === 0, '');

  say('\n7. The expiry of step 1');
  const wait = Date.parse(expiring.expiration!) - Date.now();
  if (wait > 0) say(dim(`    waiting ${Math.ceil(wait / 1000)} s for it…`));
  const expiredCode = await runtime.waitUntilRejected(expiring, wait + 10_000, 50);
  const lateness = Date.now() - Date.parse(expiring.expiration!);
  const expired = await until('the expiry to be recorded', async () => {
    const grant = await grantOf('release-bot', 'nightly-audit');
    return grant?.state === 'verified' ? grant : undefined;
  });
  check('expired on time and verified dead', expired.revocation?.trigger === 'expired', `${expiredCode}, ${lateness} ms after its expiry`);
} catch (error) {
  check('the scenario ran to the end', false, error instanceof Error ? error.message : String(error));
} finally {
  runtime.close();
  dynamo.destroy();
  await engine.stop();
  await rm(dataDir, { recursive: true, force: true });
}

const failed = steps.filter((step) => !step.ok);
say(`\n${steps.length - failed.length}/${steps.length} steps happened as described.`);
process.exit(failed.length === 0 ? 0 : 1);
