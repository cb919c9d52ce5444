import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { connect } from '../../../cli/clients';
import { runCli } from '../../../cli/program';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { DynamoDbGrantStore } from '../../../lambdas/adapters/aws/dynamodb-grant-store';
import { ensureGrantTable } from '../../../lambdas/adapters/aws/grant-table-definition';
import { startEmbeddedStore, type EmbeddedStore } from '../../../lambdas/local/emulated-aws/embedded-store';
import { activeGrant } from './cli-harness';

interface Recorded {
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

const GRANT = grantIdFor('release-bot', 't-1');
const storedGrant = activeGrant('release-bot', 't-1');
const CALLER_ARN = 'arn:aws:iam::111122223333:user/alice';
const STS_REPLY =
  '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
  `<Arn>${CALLER_ARN}</Arn><UserId>AIDAEXAMPLE</UserId><Account>111122223333</Account>` +
  '</GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>';

/** A loopback stand-in for the engine's endpoint: records requests, answers PutEvents and STS. */
const requests: Recorded[] = [];
let failPutEvents = false;
let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ path: req.url ?? '/', headers: req.headers, body });
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target.startsWith('DynamoDB_20120810.')) {
        // The grant table: the grant under test exists; no agent record, nothing due, no other grant.
        const isGrantLookup = target.endsWith('.GetItem') && body.includes(`GRANT#${GRANT}`);
        const reply = target.endsWith('.GetItem')
          ? isGrantLookup
            ? { Item: marshall(storedGrant, { removeUndefinedValues: true }) }
            : {}
          : { Items: [], Count: 0, ScannedCount: 0 };
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(reply));
      } else if (target === 'AWSEvents.PutEvents') {
        const reply = failPutEvents
          ? { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] }
          : { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] };
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(reply));
      } else if (body.includes('Action=GetCallerIdentity')) {
        res.writeHead(200, { 'content-type': 'text/xml' }).end(STS_REPLY);
      } else {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end('{"__type":"UnknownOperationException"}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests.length = 0;
  failPutEvents = false;
});

afterEach(() => {
  vi.unstubAllEnvs();
});

async function taskbound(env: NodeJS.ProcessEnv, ...argv: string[]) {
  const err: string[] = [];
  const io = { out: () => undefined, err: (line: string) => err.push(line) };
  const code = await runCli(['--endpoint', endpoint, ...argv], { io, connect: (flags, cliIo) => connect(flags, cliIo, env) });
  return { code, err: err.join('\n') };
}

const putEventsBody = () => JSON.parse(requests.find((r) => r.headers['x-amz-target'] === 'AWSEvents.PutEvents')?.body ?? 'null');

describe('taskbound over the wire', () => {
  it('puts a revocation request on the bus as a SigV4-signed PutEvents', async () => {
    const { code } = await taskbound({}, 'revoke', GRANT, '--reason', 'compromised host', '--as', 'oncall@example.com', '--wait', '0');
    const putEvents = requests.filter((r) => r.headers['x-amz-target'] === 'AWSEvents.PutEvents');

    expect(code).toBe(0);
    expect(putEvents).toHaveLength(1);
    expect(putEvents[0]?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(putEvents[0]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=\w+\/\d{8}\/us-east-1\/events\/aws4_request,/);
    expect(putEventsBody()).toEqual({
      Entries: [
        {
          Source: 'taskbound.cli',
          DetailType: 'Grant Revocation Requested',
          Detail: JSON.stringify({ grantId: GRANT, by: 'oncall@example.com', reason: 'compromised host' }),
          EventBusName: 'taskbound',
        },
      ],
    });
  });

  it('sends to the bus named by TASKBOUND_BUS, and --bus over it', async () => {
    await taskbound({ TASKBOUND_BUS: 'ops' }, 'sweep', '--as', 'a@example.com');
    expect(putEventsBody().Entries[0].EventBusName).toBe('ops');
    requests.length = 0;
    await taskbound({ TASKBOUND_BUS: 'ops' }, '--bus', 'staging', 'sweep', '--as', 'a@example.com');
    expect(putEventsBody().Entries[0].EventBusName).toBe('staging');
  });

  it('names the caller from STS when the environment has credentials', async () => {
    // The SDK's credential chain reads the real environment.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAEXAMPLE000000001');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'example-secret');

    const { code, err } = await taskbound(process.env, 'suspend', 'release-bot', '--reason', 'prompt injection', '--wait', '0');

    expect(err).toBe('');
    expect(code).toBe(0);
    expect(requests.some((r) => r.body.includes('Action=GetCallerIdentity'))).toBe(true);
    expect(JSON.parse(putEventsBody().Entries[0].Detail)).toEqual({ agentId: 'release-bot', by: CALLER_ARN, reason: 'prompt injection' });
  });

  it('does not ask STS who local dummy credentials are', async () => {
    await taskbound({}, 'sweep');
    expect(requests.filter((r) => r.body.includes('GetCallerIdentity'))).toHaveLength(0);
    expect(JSON.parse(putEventsBody().Entries[0].Detail).requestedBy).toMatch(/^local:/);
  });

  it('exits 1 with the error code when PutEvents fails the entry', async () => {
    failPutEvents = true;
    const { code, err } = await taskbound({}, 'emit', 'task-ended', '--agent', 'release-bot', '--task', 't-1', '--outcome', 'failed');
    expect(code).toBe(1);
    expect(err).toContain('Task Ended was not accepted: InternalFailure (try again)');
  });

  it('runs as a process from bin/taskbound.ts and exits with the command code', async () => {
    const bin = fileURLToPath(new URL('../../../bin/taskbound.ts', import.meta.url));
    const env = { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

    const [{ stdout }, usage] = await Promise.all([
      promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', bin, '--endpoint', endpoint, 'revoke', GRANT, '--reason', 'r', '--as', 'x@example.com', '--wait', '0'],
        { env },
      ),
      promisify(execFile)(process.execPath, ['--import', 'tsx', bin, 'revoke', GRANT], { env }).catch(
        (error: { code: number; stderr: string }) => error,
      ),
    ]);

    expect(stdout).toContain(`revocation of ${GRANT} requested (event e-1)`);
    expect(usage).toMatchObject({ code: 2, stderr: expect.stringContaining("required option '--reason <reason>'") });
  });
});

describe('taskbound reading the grant table', () => {
  let dynamodb: EmbeddedStore;
  const grant = activeGrant('release-bot', 't-1');

  beforeAll(async () => {
    dynamodb = await startEmbeddedStore();
    const client = new DynamoDBClient({
      endpoint: dynamodb.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    await ensureGrantTable(client, 'ops-grants');
    await new DynamoDbGrantStore({ client, tableName: 'ops-grants' }).create(grant);
  });

  afterAll(async () => {
    await dynamodb.close();
  });

  it('shows a grant read through the DynamoDB grant store from the table named by --table', async () => {
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line) };
    const argv = ['--endpoint', dynamodb.endpoint, '--table', 'ops-grants', 'grants', 'show', grant.grantId, '--json'];

    const code = await runCli(argv, { io, connect: (flags, cliIo) => connect(flags, cliIo, {}) });

    expect(code).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual({
      grant,
      chain: { ok: true },
      calls: { source: 'unavailable', why: expect.stringContaining(dynamodb.endpoint) },
    });
  });
});
