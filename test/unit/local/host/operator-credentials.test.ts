import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OPERATOR_CREDENTIALS_FILE } from '../../../../lambdas/domain/operator-api';
import { loadOperatorKeyring, recordEndpoint } from '../../../../lambdas/local/host/operator-credentials';

const person = (slack: string) => ({ awsPrincipals: [], slackUserIds: [slack] });

describe('local operator keyring', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taskbound-keyring-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('makes one key per person, in a file only its owner can read, and finds the person by key', async () => {
    const keyring = await loadOperatorKeyring({
      people: { 'a@example.com': person('U0AAA'), 'b@example.com': person('U0BBB') },
      region: 'us-east-1',
      dataDir,
    });
    const file = join(dataDir, OPERATOR_CREDENTIALS_FILE);
    expect(keyring.file).toBe(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const a = keyring.credentials.people['a@example.com'];
    expect(a?.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(a?.accessKeyId).not.toBe(keyring.credentials.people['b@example.com']?.accessKeyId);
    expect(keyring.personOf(a?.accessKeyId ?? '')).toEqual({ person: 'a@example.com', secretAccessKey: a?.secretAccessKey });
    expect(keyring.personOf('AKIAUNKNOWN000000000')).toBeUndefined();
  });

  it('keeps a person’s key across restarts, adds new people and drops removed ones', async () => {
    const first = await loadOperatorKeyring({
      people: { 'a@example.com': person('U0AAA'), 'b@example.com': person('U0BBB') },
      region: 'us-east-1',
      dataDir,
    });
    await recordEndpoint(first, 'http://127.0.0.1:4010');
    const second = await loadOperatorKeyring({
      people: { 'a@example.com': person('U0AAA'), 'c@example.com': person('U0CCC') },
      region: 'us-east-1',
      dataDir,
    });
    expect(second.credentials.people['a@example.com']).toEqual(first.credentials.people['a@example.com']);
    expect(Object.keys(second.credentials.people).sort()).toEqual(['a@example.com', 'c@example.com']);
    expect(second.personOf(first.credentials.people['b@example.com']?.accessKeyId ?? '')).toBeUndefined();
    const onDisk = JSON.parse(await readFile(join(dataDir, OPERATOR_CREDENTIALS_FILE), 'utf8'));
    expect(Object.keys(onDisk.people).sort()).toEqual(['a@example.com', 'c@example.com']);
  });

  it('records the address the engine listens on, keys unchanged', async () => {
    const keyring = await loadOperatorKeyring({ people: { 'a@example.com': person('U0AAA') }, region: 'us-east-1', dataDir });
    const recorded = await recordEndpoint(keyring, 'http://127.0.0.1:4999');
    const onDisk = JSON.parse(await readFile(join(dataDir, OPERATOR_CREDENTIALS_FILE), 'utf8'));
    expect(onDisk).toEqual({ ...recorded, endpoint: 'http://127.0.0.1:4999' });
    expect(onDisk.people).toEqual(keyring.credentials.people);
  });

  it('keeps keys in memory only when the engine has no data directory', async () => {
    const keyring = await loadOperatorKeyring({ people: { 'a@example.com': person('U0AAA') }, region: 'us-east-1' });
    expect(keyring.file).toBeUndefined();
    expect(Object.keys(keyring.credentials.people)).toEqual(['a@example.com']);
  });
});
