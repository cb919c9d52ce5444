// AWS emulator tier: the dynamodb-kms delivery vault and the SDK's reader against moto's DynamoDB
// and KMS, signed as the engine, with the real SDK's serialization: items hold ciphertext only,
// KMS refuses a context that names another agent, task or grant, and each call is counted.
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliveryTableCreateInput } from '../../lambdas/adapters/aws/delivery-table-definition';
import { DynamoDbKmsDeliveryVault } from '../../lambdas/adapters/aws/dynamodb-kms-delivery-vault';
import { grantIdFor } from '../../lambdas/domain/ids';
import type { Delivery } from '../../lambdas/ports';
import { SdkCallCounter } from '../../lambdas/local/host/sdk-clients';
import { dynamoDbKmsReader } from '../../sdk/delivery-readers';
import { freshMoto } from './moto-world';

const TABLE = 'taskbound-deliveries';
const NOW = new Date('2030-01-01T00:00:00.000Z');

function delivery(agentId: string, taskId: string, payload: Partial<Delivery['payload']> = {}): Delivery {
  const grantId = grantIdFor(agentId, taskId);
  return {
    name: `taskbound/${agentId}/${taskId}`,
    grantId,
    agentId,
    taskId,
    readerArn: 'arn:aws:iam::123456789012:role/agent-runtime',
    expiresAt: '2030-01-01T00:15:00.000Z',
    payload: {
      status: 'issued',
      grantId,
      kind: 'aws-sts-session',
      accessKeyId: 'ASIAEXAMPLEEXAMPLE00',
      secretAccessKey: 'a-secret-that-must-not-be-stored-in-clear',
      sessionToken: 'token',
      expiration: '2030-01-01T00:15:00.000Z',
      scopes: ['repo-read'],
      ...payload,
    },
  };
}

describe('DynamoDbKmsDeliveryVault on moto', () => {
  let dynamo: DynamoDBClient;
  let kms: KMSClient;
  let calls: SdkCallCounter;
  let vault: DynamoDbKmsDeliveryVault;

  beforeEach(async () => {
    const moto = await freshMoto();
    await moto.aws.dynamodb.send(deliveryTableCommand());
    calls = new SdkCallCounter();
    dynamo = calls.track(new DynamoDBClient(moto.engineConfig));
    kms = calls.track(new KMSClient(moto.engineConfig));
    vault = new DynamoDbKmsDeliveryVault(DynamoDBDocumentClient.from(dynamo), kms, {
      tableName: TABLE,
      keyId: moto.deliveryKeyArn,
      clock: { now: () => NOW },
    });
  });
  afterEach(() => {
    dynamo.destroy();
    kms.destroy();
  });

  it('delivers in two calls and reads back in two, the item holding only ciphertext, an hour of TTL past the expiry', async () => {
    const sent = delivery('release-bot', 't-1');
    await vault.deliver(sent);
    expect(Object.fromEntries(calls.byOperation)).toEqual({ EncryptCommand: 1, PutItemCommand: 1 });

    const item = (await dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { agentId: { S: 'release-bot' }, taskId: { S: 't-1' } } })))
      .Item!;
    expect(Buffer.from(item.ciphertext!.B!).toString('latin1')).not.toContain(sent.payload.secretAccessKey);
    expect(item.grantId?.S).toBe(sent.grantId);
    expect(Number(item.expiresAtEpoch?.N)).toBe(Date.parse('2030-01-01T01:15:00.000Z') / 1000);

    const before = calls.calls;
    expect(await vault.read(sent.name)).toEqual(sent.payload);
    expect(calls.calls - before).toBe(2); // GetItem and Decrypt
  });

  it('replaces a pending delivery with the issued one, and the runtime SDK reads the same payload', async () => {
    await vault.deliver({
      ...delivery('release-bot', 't-2'),
      payload: { status: 'pending_approval', grantId: grantIdFor('release-bot', 't-2'), scopes: ['repo-read'] },
    });
    const reader = dynamoDbKmsReader(dynamo, kms, TABLE);
    expect((await reader({ agentId: 'release-bot', taskId: 't-2' })).reading).toMatchObject({ status: 'pending_approval' });
    const issued = delivery('release-bot', 't-2');
    await vault.deliver(issued);
    expect((await reader({ agentId: 'release-bot', taskId: 't-2' })).reading).toEqual(issued.payload);
    expect((await reader({ agentId: 'release-bot', taskId: 'never-started' })).reading).toEqual({ status: 'absent' });
  });

  it("refuses an item moved to another agent's key or given another grant id: KMS binds the context", async () => {
    await vault.deliver(delivery('release-bot', 't-3'));
    const item = (await dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { agentId: { S: 'release-bot' }, taskId: { S: 't-3' } } })))
      .Item!;
    await dynamo.send(new PutItemCommand({ TableName: TABLE, Item: { ...item, agentId: { S: 'deploy-bot' } } }));
    await dynamo.send(new PutItemCommand({ TableName: TABLE, Item: { ...item, grantId: { S: grantIdFor('release-bot', 'other') } } }));

    await expect(vault.read('taskbound/deploy-bot/t-3')).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    await expect(vault.read('taskbound/release-bot/t-3')).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    await expect(dynamoDbKmsReader(dynamo, kms, TABLE)({ agentId: 'deploy-bot', taskId: 't-3' })).rejects.toMatchObject({
      name: 'InvalidCiphertextException',
    });
  });

  it('destroys in one call (absent counts as done) and lists what is left for orphan reconciliation', async () => {
    await vault.deliver(delivery('release-bot', 't-4'));
    await vault.deliver(delivery('ops-bot', 't-5'));
    const before = calls.calls;
    await vault.destroy('taskbound/release-bot/t-4');
    await vault.destroy('taskbound/release-bot/t-4');
    expect(calls.calls - before).toBe(2);
    expect(await vault.read('taskbound/release-bot/t-4')).toBeUndefined();
    const listed: { name: string; grantId?: string }[] = [];
    for await (const entry of vault.listDeliveries()) listed.push(entry);
    expect(listed).toEqual([{ name: 'taskbound/ops-bot/t-5', grantId: grantIdFor('ops-bot', 't-5') }]);
    await expect(vault.destroy('not-a-delivery')).rejects.toThrow(/is not taskbound\/<agentId>\/<taskId>/);
  });
});

/** The create input the local engine uses and the CDK construct mirrors. */
const deliveryTableCommand = () => new CreateTableCommand(deliveryTableCreateInput(TABLE));
