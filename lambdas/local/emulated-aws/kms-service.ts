// Local engine: an emulated KMS (awsJson1.1, `TrentService.*`) for the `dynamodb-kms` delivery
// mode: Encrypt and Decrypt under one symmetric key, AES-256-GCM from node:crypto, with the
// encryption context bound as additional authenticated data, as KMS binds it: a Decrypt that
// names any other context (another agent, task or grant) fails with InvalidCiphertextException.
// The key is kept (mode 0600) in the data directory, so deliveries survive a restart.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { LOCAL_ACCOUNT_ID } from '../../constants';
import { jsonError, jsonOk, type AwsRequest, type AwsResponse, type AwsService } from './protocol';

/** The one key's id and ARN: the delivery key the stack would own. */
export const LOCAL_KMS_KEY_ID = '00000000-0000-4000-8000-00000000d1e7';
export const localKmsKeyArn = (region: string) => `arn:aws:kms:${region}:${LOCAL_ACCOUNT_ID}:key/${LOCAL_KMS_KEY_ID}`;

const TARGET_PREFIX = 'TrentService.';
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** KMS's own limit on Encrypt's plaintext. */
const MAX_PLAINTEXT_BYTES = 4096;

const contextSchema = z.record(z.string(), z.string()).optional();
const encryptSchema = z.object({ KeyId: z.string().min(1), Plaintext: z.base64().min(1), EncryptionContext: contextSchema });
const decryptSchema = z.object({
  KeyId: z.string().min(1).optional(),
  CiphertextBlob: z.base64().min(1),
  EncryptionContext: contextSchema,
});

export interface KmsServiceOptions {
  readonly region: string;
  /** Where the key is kept; a fresh in-memory key when absent. */
  readonly dataDir?: string;
}

/** The context as KMS canonicalises it: order does not matter, every pair does. */
function additionalData(context: Readonly<Record<string, string>> | undefined): Buffer {
  const sorted = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(sorted), 'utf8');
}

async function loadKey(dataDir: string | undefined): Promise<Buffer> {
  if (!dataDir) return randomBytes(32);
  const file = join(dataDir, 'kms-key');
  try {
    const stored = await readFile(file);
    if (stored.length === 32) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, key, { mode: 0o600 });
  return key;
}

/** Creates the emulated KMS; only the one key's id, ARN or `alias/taskbound-delivery` names it. */
export async function createKmsService(options: KmsServiceOptions): Promise<AwsService> {
  const key = await loadKey(options.dataDir);
  const arn = localKmsKeyArn(options.region);
  const names = new Set([LOCAL_KMS_KEY_ID, arn, 'alias/taskbound-delivery']);
  const unknownKey = (keyId: string) => jsonError(400, 'NotFoundException', `Key '${keyId}' does not exist`);

  const encrypt = (body: unknown): AwsResponse => {
    const request = encryptSchema.safeParse(body);
    if (!request.success) return jsonError(400, 'ValidationException', 'Encrypt needs KeyId and a base64 Plaintext');
    if (!names.has(request.data.KeyId)) return unknownKey(request.data.KeyId);
    const plaintext = Buffer.from(request.data.Plaintext, 'base64');
    if (plaintext.length > MAX_PLAINTEXT_BYTES)
      return jsonError(400, 'ValidationException', `Plaintext is longer than ${MAX_PLAINTEXT_BYTES} bytes`);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(additionalData(request.data.EncryptionContext));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const blob = Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), sealed]);
    return jsonOk({ CiphertextBlob: blob.toString('base64'), KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
  };

  const decrypt = (body: unknown): AwsResponse => {
    const request = decryptSchema.safeParse(body);
    if (!request.success) return jsonError(400, 'ValidationException', 'Decrypt needs a base64 CiphertextBlob');
    if (request.data.KeyId !== undefined && !names.has(request.data.KeyId)) return unknownKey(request.data.KeyId);
    const blob = Buffer.from(request.data.CiphertextBlob, 'base64');
    // KMS says no more than this about any ciphertext it cannot open: no oracle for which part was wrong.
    const invalid = jsonError(400, 'InvalidCiphertextException', '');
    if (blob.length < 1 + IV_BYTES + TAG_BYTES || blob[0] !== VERSION) return invalid;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(1, 1 + IV_BYTES));
      decipher.setAuthTag(blob.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      decipher.setAAD(additionalData(request.data.EncryptionContext));
      const plaintext = Buffer.concat([decipher.update(blob.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
      return jsonOk({ Plaintext: plaintext.toString('base64'), KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    } catch {
      return invalid;
    }
  };

  return {
    name: 'kms',
    matches: (request: AwsRequest) => request.target?.startsWith(TARGET_PREFIX) ?? false,
    async handle(request: AwsRequest): Promise<AwsResponse> {
      let body: unknown;
      try {
        body = JSON.parse(request.body.toString('utf8') || '{}');
      } catch {
        return jsonError(400, 'SerializationException', 'The request body is not JSON.');
      }
      const operation = request.target?.slice(TARGET_PREFIX.length);
      if (operation === 'Encrypt') return encrypt(body);
      if (operation === 'Decrypt') return decrypt(body);
      return jsonError(400, 'UnsupportedOperationException', `The local KMS answers Encrypt and Decrypt, not ${operation}.`);
    },
  };
}
