import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreConnection, StoreError } from '../../../../lambdas/local/emulated-aws/store-writes';
import { startStateStore, type StateStore } from './state-store';

describe('state writes sent to the embedded store without the SDK', () => {
  let state: StateStore;

  beforeEach(async () => {
    state = await startStateStore();
  });
  afterEach(() => state.close());

  it('puts an item of string attributes that the SDK reads back as stored', async () => {
    const { writes } = state.table('secrets');

    await writes.put({
      name: 'taskbound/g-1',
      arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:taskbound/g-1-AbCdEf',
      record: '{"ü":"√"}',
    });

    expect(await state.items('secrets')).toEqual([
      { name: 'taskbound/g-1', arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:taskbound/g-1-AbCdEf', record: '{"ü":"√"}' },
    ]);
  });

  it('deletes an item by its key, and answers a delete of an absent key as DynamoDB does', async () => {
    const { writes } = state.table('events');
    await writes.put({ id: 'e-1', envelope: '{}' });

    await writes.delete({ id: 'e-1' });
    await writes.delete({ id: 'never-written' });

    expect(await state.items('events')).toEqual([]);
  });

  it('writes puts and deletes of a batch together and reports none unprocessed', async () => {
    const { writes } = state.table('events');
    await writes.put({ id: 'old', envelope: '{}' });

    const unprocessed = await writes.batch([{ put: { id: 'new', envelope: '{"n":1}' } }, { delete: { id: 'old' } }]);

    expect(unprocessed).toEqual([]);
    expect(await state.items('events')).toEqual([{ id: 'new', envelope: '{"n":1}' }]);
  });

  it('fails with the error the store names when it refuses a write', async () => {
    const { writes } = state.table('events');

    const refused = writes.put({ id: '', envelope: 'an empty key is refused' });

    await expect(refused).rejects.toBeInstanceOf(StoreError);
    await expect(refused).rejects.toMatchObject({ name: 'ValidationException', status: 400 });
  });
});

describe('a state write the store may not have seen', () => {
  let server: Server;
  afterEach(() => new Promise<void>((done) => server.close(() => done())));

  /** A stand-in store that fails the first `failures` requests with `status`, then answers `{}`. */
  async function storeFailing(failures: number, status: number): Promise<{ endpoint: string; requests: () => number }> {
    let requests = 0;
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        requests += 1;
        const failing = requests <= failures;
        response.writeHead(failing ? status : 200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(failing ? '{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"boom"}' : '{}');
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
  }

  it('is sent again after the store fails it (5xx), up to three attempts', async () => {
    const store = await storeFailing(2, 500);
    const connection = new StoreConnection(store.endpoint);

    await connection.writes('t').put({ id: 'x' });

    expect(store.requests()).toBe(3);
    connection.close();
  });

  it('fails once three attempts failed, with the store’s error', async () => {
    const store = await storeFailing(3, 500);
    const connection = new StoreConnection(store.endpoint);

    await expect(connection.writes('t').put({ id: 'x' })).rejects.toMatchObject({ name: 'InternalServerError', status: 500 });

    expect(store.requests()).toBe(3);
    connection.close();
  });

  it('is not sent again when the store refused it (4xx)', async () => {
    const store = await storeFailing(1, 400);
    const connection = new StoreConnection(store.endpoint);

    await expect(connection.writes('t').put({ id: 'x' })).rejects.toMatchObject({ status: 400 });

    expect(store.requests()).toBe(1);
    connection.close();
  });
});
