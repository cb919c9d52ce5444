import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConcurrencyLimit,
  inRevocationLane,
  laneAwareRetryStrategy,
  QuotaThrottle,
  TokenBucket,
} from '../../../../lambdas/adapters/aws/quota-throttle';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import { jsonOk } from '../../../../lambdas/local/emulated-aws/protocol';
import { throttledService } from '../../../../lambdas/local/emulated-aws/throttled-service';

const CREDENTIALS = { accessKeyId: 'AKIAENGINEEXAMPLE000', secretAccessKey: 'engine-secret' };

describe('TokenBucket', () => {
  it('hands out tokens no faster than its rate once its burst is spent', async () => {
    const bucket = new TokenBucket(20, 1);
    const started = performance.now();
    await Promise.all(Array.from({ length: 11 }, () => bucket.take()));
    // One token at once, then ten more at 50 ms apart.
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('serves a waiting revocation before issuances that queued earlier', async () => {
    const bucket = new TokenBucket(20, 1);
    await bucket.take();
    const order: string[] = [];
    const issuances = [1, 2, 3].map((n) => bucket.take('issuance').then(() => order.push(`issue-${n}`)));
    const revocation = inRevocationLane(() => bucket.take().then(() => order.push('revoke')));
    await Promise.all([...issuances, revocation]);
    expect(order).toEqual(['revoke', 'issue-1', 'issue-2', 'issue-3']);
  });

  it('refuses without waiting when empty (the emulated service side)', () => {
    const bucket = new TokenBucket(1, 2);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
  });
});

describe('ConcurrencyLimit', () => {
  it('gives a freed slot to a waiting revocation before earlier issuances', async () => {
    const limit = new ConcurrencyLimit(1);
    let release: () => void = () => undefined;
    const holder = limit.run('issuance', () => new Promise<void>((resolve) => (release = resolve)));
    const order: string[] = [];
    const issuance = limit.run('issuance', async () => void order.push('issue'));
    const revocation = limit.run('revocation', async () => void order.push('revoke'));
    release();
    await Promise.all([holder, issuance, revocation]);
    expect(order).toEqual(['revoke', 'issue']);
  });
});

describe('QuotaThrottle over an SDK client, against a service throttling at the same quota', () => {
  let server: RunningServer | undefined;
  afterEach(async () => server?.close());

  async function throttlingAt(ratePerSecond: number) {
    const describeSecret = { name: 'describe', matches: () => true, handle: async () => jsonOk({ Name: 'taskbound/a/t' }) };
    const service = throttledService(describeSecret, 'secretsmanager', { 'secretsmanager:DescribeSecret': ratePerSecond });
    server = await startAwsProtocolServer({ services: [service] });
    return { service, endpoint: server.url };
  }

  it('the emulated service answers ThrottlingException past its quota', async () => {
    // One request every 10 s, a burst of one: however slowly a loaded machine sends the ten, nine find it empty.
    const { service, endpoint } = await throttlingAt(0.1);
    const client = new SecretsManagerClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
    const answers = await Promise.allSettled(Array.from({ length: 10 }, () => client.send(new DescribeSecretCommand({ SecretId: 'x' }))));
    expect(answers.filter((answer) => answer.status === 'rejected').map((answer) => (answer.reason as Error).name)).toEqual(
      Array(9).fill('ThrottlingException'),
    );
    expect(service.counts()).toEqual({ accepted: { DescribeSecret: 1 }, throttled: { DescribeSecret: 9 } });
  });

  it('paced at the quota, every call succeeds on its first attempt: the excess waited instead of failing', async () => {
    const { service, endpoint } = await throttlingAt(5);
    const client = new QuotaThrottle({ quotas: { 'secretsmanager:DescribeSecret': 5 }, maxConcurrency: { secretsmanager: 2 } }).attach(
      new SecretsManagerClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS, retryStrategy: laneAwareRetryStrategy(1) }),
      'secretsmanager',
    );
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 10 }, () => client.send(new DescribeSecretCommand({ SecretId: 'x' }))));
    expect(answers.map((answer) => answer.Name)).toEqual(Array(10).fill('taskbound/a/t'));
    expect(service.counts()).toEqual({ accepted: { DescribeSecret: 10 }, throttled: {} });
    // A burst of 2, then eight more at 5 a second.
    expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
  });
});
