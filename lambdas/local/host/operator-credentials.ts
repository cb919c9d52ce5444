// Local engine, host: the SigV4 credentials the local engine holds for each person in the policy, so
// `taskbound approve|deny|resume --as PERSON` is authenticated locally the way IAM authenticates
// it on AWS. Kept in `<data dir>/operator-credentials.json` (mode 0600) across restarts.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  OPERATOR_CREDENTIALS_FILE,
  operatorCredentialsSchema,
  type OperatorCredentials,
  type OperatorKeyPair,
} from '../../domain/operator-api';
import type { People } from '../../domain/people';
import { newAccessKeyPair } from '../emulated-aws/credential-authority';

const newKeyPair = (): OperatorKeyPair => newAccessKeyPair('AKIA');

/** Looks a presented access key id up: whose it is and its secret. */
export interface OperatorKeyring {
  readonly credentials: OperatorCredentials;
  /** Where they are kept; undefined for an in-memory engine. */
  readonly file?: string;
  personOf(accessKeyId: string): { readonly person: string; readonly secretAccessKey: string } | undefined;
}

/**
 * Keeps each person's existing keys (an operator's shell keeps working across restarts), makes
 * keys for people new to the policy and drops those of people no longer in it.
 */
export async function loadOperatorKeyring(options: {
  readonly people: People;
  readonly region: string;
  readonly dataDir?: string;
}): Promise<OperatorKeyring> {
  const file = options.dataDir ? join(options.dataDir, OPERATOR_CREDENTIALS_FILE) : undefined;
  const previous = file ? await readPrevious(file) : undefined;
  const people: Record<string, OperatorKeyPair> = {};
  for (const person of Object.keys(options.people)) people[person] = previous?.people[person] ?? newKeyPair();
  const credentials: OperatorCredentials = { version: 1, region: options.region, people };
  if (file) await save(file, credentials);
  const byKey = new Map(
    Object.entries(people).map(([person, pair]) => [pair.accessKeyId, { person, secretAccessKey: pair.secretAccessKey }]),
  );
  return { credentials, ...(file ? { file } : {}), personOf: (accessKeyId) => byKey.get(accessKeyId) };
}

/** Records the address the engine listens on (known only once it listens), keys unchanged. */
export async function recordEndpoint(keyring: OperatorKeyring, endpoint: string): Promise<OperatorCredentials> {
  const credentials = { ...keyring.credentials, endpoint };
  if (keyring.file) await save(keyring.file, credentials);
  return credentials;
}

/** Atomically, readable by this user only: the file holds secret keys. */
async function save(file: string, credentials: OperatorCredentials): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.tmp`;
  await writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
}

async function readPrevious(file: string): Promise<OperatorCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = operatorCredentialsSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
