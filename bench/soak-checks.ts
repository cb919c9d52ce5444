// Bench (soak) and test (crash under load): once the load has stopped, let the engine settle
// and check what it promises, from outside, as a user would: through the `taskbound` CLI
// (grants list, sweep, audit verify) and the AWS protocols (STS, Secrets Manager, DynamoDB).
// No grant lost, no credential left alive, no delivery left holding one, every chain verifies.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { localClientConfig } from '../lambdas/local/host/sdk-clients';
import { STORE_ENDPOINT_FILE } from '../lambdas/local/emulated-aws/embedded-store';
import { AGENT_DENY_KEY_PREFIX, coveredByAgentDeny } from '../lambdas/local/emulated-aws/credential-authority';
import { realSleep as sleep } from '../lambdas/adapters/sleep';
import { probeCredential, type RuntimeLedger } from './soak-runtimes';

const REPO_ROOT = resolve(import.meta.dirname, '..');
/**
 * The local engine's emulated IAM/STS keeps the credentials it issued in this table of its
 * embedded store (read at the store's own endpoint, named in the data directory): the only place a credential
 * issued but never delivered (the engine died in between) can be seen from outside.
 */
const LOCAL_CREDENTIALS_TABLE = 'taskbound-local-credentials';
const SETTLED_STATES = new Set(['verified', 'denied', 'failed']);
/** What `taskbound sweep --wait` says when due grants were still being handled when its wait ran out. */
const SWEEP_STILL_BUSY = /due grants? (was|were) not handled within/;

export interface SettledCheck {
  readonly grants: number;
  readonly grantsByState: Readonly<Record<string, number>>;
  /** Verified grants by what revoked them (`manual` includes a revocation a restart found interrupted). */
  readonly verifiedByTrigger: Readonly<Record<string, number>>;
  /** Accepted `Task Started`s with no grant at all (neither issued nor a recorded refusal). */
  readonly lostGrants: readonly string[];
  /** Grants still short of an end state once the settle time ran out: `grantId state`. */
  readonly unsettled: readonly string[];
  /** Credentials the runtimes held, or the emulated IAM issued, that STS still accepts, or that were never revoked: access key ids only. */
  readonly liveCredentials: readonly string[];
  readonly credentialsChecked: { readonly delivered: number; readonly issuedByAuthority: number; readonly probed: number };
  /** Delivery secrets still readable with a credential in them. */
  readonly deliveriesHoldingCredentials: readonly string[];
  readonly auditVerified: boolean;
  readonly auditSummary: string;
  readonly settleMs: number;
}

/** True when nothing was lost, nothing is alive, nothing is left undone and every chain verifies. */
export function settledCleanly(check: SettledCheck): boolean {
  return (
    check.lostGrants.length === 0 &&
    check.unsettled.length === 0 &&
    check.liveCredentials.length === 0 &&
    check.deliveriesHoldingCredentials.length === 0 &&
    check.auditVerified
  );
}

export interface CliAnswer {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `taskbound --endpoint URL <argv>` in its own Node process, as a user runs it. */
export function taskbound(endpoint: string, ...argv: string[]): Promise<CliAnswer> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', resolve(REPO_ROOT, 'bin/taskbound.ts'), '--endpoint', endpoint, ...argv],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NO_COLOR: '1' },
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

interface ListedGrant {
  readonly grantId: string;
  readonly agentId: string;
  readonly taskId: string;
  readonly state: string;
  readonly trigger?: string;
}

async function listGrants(endpoint: string): Promise<ListedGrant[]> {
  const answer = await taskbound(endpoint, 'grants', 'list', '--json', '--limit', '999999');
  if (answer.code !== 0) throw new Error(`taskbound grants list failed (${answer.code}): ${answer.stderr.slice(0, 500)}`);
  return JSON.parse(answer.stdout) as ListedGrant[];
}

export interface SettleOptions {
  readonly endpoint: string;
  /** The engine's data directory: its embedded store's own endpoint is there (the engine's DynamoDB endpoint hides the emulated IAM's table). */
  readonly dataDir: string;
  readonly ledger: RuntimeLedger;
  /** How long the engine may take to bring every grant to an end state (sweeps, retried revocations). */
  readonly settleTimeoutMs?: number;
}

/** Asks for a sweep, waits until every grant has ended (or the time is up), then checks everything. */
export async function settleAndCheck(options: SettleOptions): Promise<SettledCheck> {
  const { endpoint, ledger } = options;
  const started = Date.now();
  const deadline = started + (options.settleTimeoutMs ?? 60_000);
  let grants: ListedGrant[];
  for (;;) {
    const sweep = await taskbound(endpoint, 'sweep', '--json', '--wait', '30');
    // A busy engine may not handle every due grant within the CLI's wait: the settle deadline decides, not the CLI's.
    if (sweep.code !== 0 && !SWEEP_STILL_BUSY.test(sweep.stderr))
      throw new Error(`taskbound sweep failed (${sweep.code}): ${sweep.stderr.slice(0, 500)}`);
    grants = await listGrants(endpoint);
    if (grants.every((grant) => SETTLED_STATES.has(grant.state)) || Date.now() > deadline) break;
    await sleep(1_000);
  }
  const settleMs = Date.now() - started;

  const known = new Set(grants.map((grant) => `${grant.agentId}/${grant.taskId}`));
  const lostGrants = [...ledger.accepted].filter((task) => !known.has(task));
  const unsettled = grants.filter((grant) => !SETTLED_STATES.has(grant.state)).map((grant) => `${grant.grantId} ${grant.state}`);
  const grantsByState: Record<string, number> = {};
  for (const grant of grants) grantsByState[grant.state] = (grantsByState[grant.state] ?? 0) + 1;
  const verifiedByTrigger: Record<string, number> = {};
  for (const grant of grants) {
    if (grant.state === 'verified') verifiedByTrigger[grant.trigger ?? 'none'] = (verifiedByTrigger[grant.trigger ?? 'none'] ?? 0) + 1;
  }

  const live = new Set<string>();
  let probed = 0;
  for (const credential of ledger.credentials) {
    probed++;
    if ((await probeCredential(endpoint, credential)).ok) live.add(credential.accessKeyId);
  }
  const issued = await issuedByAuthority(options.dataDir);
  const now = Date.now();
  for (const credential of issued) {
    const expired = credential.kind === 'aws-sts-session' && Date.parse(credential.expiresAt) <= now;
    if (!credential.revokedAt && !expired) live.add(credential.accessKeyId);
    // An access key needs no token: prove it dead with STS itself, not only by the record.
    if (credential.kind === 'aws-iam-access-key') {
      probed++;
      if ((await probeCredential(endpoint, credential)).ok) live.add(credential.accessKeyId);
    }
  }

  const audit = await taskbound(endpoint, 'audit', 'verify', '--json');
  return {
    grants: grants.length,
    grantsByState,
    verifiedByTrigger,
    lostGrants,
    unsettled,
    liveCredentials: [...live],
    credentialsChecked: { delivered: ledger.credentials.length, issuedByAuthority: issued.length, probed },
    deliveriesHoldingCredentials: await deliveriesHoldingCredentials(endpoint),
    auditVerified: audit.code === 0 && (JSON.parse(audit.stdout || '{}') as { ok?: boolean }).ok === true,
    auditSummary: audit.stdout.trim().slice(0, 300) || audit.stderr.trim().slice(0, 300),
    settleMs,
  };
}

interface AuthorityCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly kind: string;
  readonly agentId: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly revokedAt?: string;
}

/** Every credential the engine's emulated IAM/STS ever issued, read from its embedded store directly. */
async function issuedByAuthority(dataDir: string): Promise<AuthorityCredential[]> {
  const { endpoint } = JSON.parse(await readFile(join(dataDir, STORE_ENDPOINT_FILE), 'utf8')) as { endpoint: string };
  const dynamo = new DynamoDBClient(localClientConfig(endpoint));
  const documents = DynamoDBDocumentClient.from(dynamo);
  const items: AuthorityCredential[] = [];
  try {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(
        new ScanCommand({ TableName: LOCAL_CREDENTIALS_TABLE, ConsistentRead: true, ExclusiveStartKey: startKey }),
      );
      items.push(...((page.Items ?? []) as AuthorityCredential[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  } finally {
    dynamo.destroy();
  }
  // The kill switch's deny of an agent's older sessions is one item, not a mark on each session it
  // covers (AWS: one aws:TokenIssueTime deny on the role): those sessions count as revoked, as the emulated IAM judges them.
  const isDeny = (item: AuthorityCredential) => item.accessKeyId.startsWith(AGENT_DENY_KEY_PREFIX);
  const deniedBefore = new Map(
    items.filter(isDeny).map((deny) => [deny.agentId, (deny as unknown as { issuedBefore: string }).issuedBefore]),
  );
  return items
    .filter((item) => !isDeny(item))
    .map((item) => {
      const issuedBefore = deniedBefore.get(item.agentId);
      return issuedBefore !== undefined && coveredByAgentDeny(item, { issuedBefore }) ? { ...item, revokedAt: issuedBefore } : item;
    });
}

/** Delivery secrets (`taskbound/<agent>/<task>`) that still hand out a credential. */
async function deliveriesHoldingCredentials(endpoint: string): Promise<string[]> {
  const secrets = new SecretsManagerClient(localClientConfig(endpoint));
  const holding: string[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await secrets.send(new ListSecretsCommand({ MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) }));
      for (const secret of page.SecretList ?? []) {
        const name = secret.Name ?? '';
        if (!name.startsWith('taskbound/') || name.split('/').length !== 3) continue;
        try {
          const value = await secrets.send(new GetSecretValueCommand({ SecretId: name }));
          const payload = JSON.parse(value.SecretString ?? '{}') as { accessKeyId?: string };
          if (payload.accessKeyId) holding.push(name);
        } catch {
          // Deleted between the listing and the read: holds nothing.
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
  } finally {
    secrets.destroy();
  }
  return holding;
}
