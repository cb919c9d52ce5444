// The local engine's emulated KMS: AES-256-GCM with the encryption context as additional data,
// so a ciphertext opens only under the context it was sealed with, as KMS behaves; its key persists.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKmsService, LOCAL_KMS_KEY_ID, localKmsKeyArn } from '../../../../lambdas/local/emulated-aws/kms-service';
import type { AwsService } from '../../../../lambdas/local/emulated-aws/protocol';

const CONTEXT = { 'taskbound:agent-id': 'release-bot', 'taskbound:task-id': 't-1', 'taskbound:grant-id': 'g-1' };
const KEY = localKmsKeyArn('us-east-1');

async function call(service: AwsService, operation: string, body: unknown) {
  const request = {
    method: 'POST',
    path: '/',
    query: new URLSearchParams(),
    headers: {},
    body: Buffer.from(JSON.stringify(body)),
    target: `TrentService.${operation}`,
  };
  expect(service.matches(request)).toBe(true);
  const response = await service.handle(request);
  return {
    status: response.status,
    body: JSON.parse(response.body.toString()) as Record<string, string>,
    type: response.headers?.['x-amzn-errortype'],
  };
}

const encrypt = (service: AwsService, context: Record<string, string> = CONTEXT, keyId = KEY) =>
  call(service, 'Encrypt', { KeyId: keyId, Plaintext: Buffer.from('{"status":"issued"}').toString('base64'), EncryptionContext: context });
const decrypt = (service: AwsService, blob: string, context: Record<string, string> = CONTEXT) =>
  call(service, 'Decrypt', { CiphertextBlob: blob, EncryptionContext: context });

describe('the local KMS', () => {
  it('opens a ciphertext under the same context, in any key order, and names its key', async () => {
    const kms = await createKmsService({ region: 'us-east-1' });
    const sealed = await encrypt(kms);
    expect(sealed.status).toBe(200);
    expect(Buffer.from(sealed.body.CiphertextBlob!, 'base64').toString()).not.toContain('issued');
    const reordered = Object.fromEntries(Object.entries(CONTEXT).reverse());
    const opened = await decrypt(kms, sealed.body.CiphertextBlob!, reordered);
    expect(opened).toMatchObject({ status: 200, body: { KeyId: KEY } });
    expect(Buffer.from(opened.body.Plaintext!, 'base64').toString()).toBe('{"status":"issued"}');
  });

  it.each([
    ['another agent', { ...CONTEXT, 'taskbound:agent-id': 'deploy-bot' }],
    ['another task', { ...CONTEXT, 'taskbound:task-id': 't-2' }],
    ['another grant', { ...CONTEXT, 'taskbound:grant-id': 'g-2' }],
    ['a missing pair', { 'taskbound:agent-id': 'release-bot', 'taskbound:task-id': 't-1' }],
    ['an extra pair', { ...CONTEXT, extra: 'x' }],
  ])('refuses the ciphertext under %s, saying nothing more than KMS does', async (_what, context) => {
    const kms = await createKmsService({ region: 'us-east-1' });
    const sealed = await encrypt(kms);
    expect(await decrypt(kms, sealed.body.CiphertextBlob!, context)).toMatchObject({ status: 400, type: 'InvalidCiphertextException' });
  });

  it('refuses a tampered ciphertext, another instance’s ciphertext, an unknown key and other operations', async () => {
    const kms = await createKmsService({ region: 'us-east-1' });
    const blob = Buffer.from((await encrypt(kms)).body.CiphertextBlob!, 'base64');
    blob[blob.length - 1]! ^= 1;
    expect((await decrypt(kms, blob.toString('base64'))).type).toBe('InvalidCiphertextException');
    const other = await createKmsService({ region: 'us-east-1' });
    expect((await decrypt(other, (await encrypt(kms)).body.CiphertextBlob!)).type).toBe('InvalidCiphertextException');
    expect((await encrypt(kms, CONTEXT, 'alias/somebody-elses')).type).toBe('NotFoundException');
    expect((await call(kms, 'GenerateDataKey', { KeyId: LOCAL_KMS_KEY_ID })).type).toBe('UnsupportedOperationException');
  });

  it('keeps its key in the data directory (mode 0600), so a restarted engine still opens what it sealed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'taskbound-kms-'));
    try {
      const sealed = await encrypt(await createKmsService({ region: 'us-east-1', dataDir }));
      expect((await stat(join(dataDir, 'kms-key'))).mode & 0o777).toBe(0o600);
      expect((await decrypt(await createKmsService({ region: 'us-east-1', dataDir }), sealed.body.CiphertextBlob!)).status).toBe(200);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
