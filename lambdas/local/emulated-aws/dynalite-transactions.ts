// Local engine, emulated AWS: TransactWriteItems for the embedded store, which dynalite 4.0.0 lacks.
// The engine's grant store folds a grant, its concurrency slot and the agent's standing into one
// transaction (dynamodb-grant-store.ts), so the local engine must give it AWS's guarantees:
//
// - All or nothing: every write of a transaction (items and their index entries) goes to LevelDB as
//   one batch, one record of its write-ahead log, so a `kill -9` leaves all of it or none.
// - Isolated: the items' keys are taken with dynalite's own per-item locks (the ones its PutItem,
//   UpdateItem and DeleteItem hold), all enqueued in one synchronous step, so a transaction and a
//   single-item write of the same item never interleave, and two transactions cannot deadlock.
//   Reads (GetItem, Query) take no lock in dynalite; one batch means they see all of it or none.
// - Conditions, update expressions and index upkeep are dynalite's own code: each operation runs
//   through dynalite's PutItem/UpdateItem/DeleteItem action over a staging store that reads the
//   items read under the locks and records the writes instead of making them.
//
// - Conflicts as on AWS: while a transaction is in flight its items are held. Another transaction
//   naming one of them is cancelled at once (`TransactionConflict` for those items, `None` for the
//   rest), and a PutItem, UpdateItem or DeleteItem of one is refused `TransactionConflictException`
//   (HTTP 400). A transaction that meets a single-item write in progress waits for it, as on AWS
//   (the developer guide's "Transaction conflict handling" lists only the cases above).
//
// Where this differs from AWS: `ClientRequestToken` is accepted but not remembered (AWS answers a
// repeat within 10 minutes as the first; here it runs again, and its conditions decide); a
// BatchWriteItem is not checked against transactions in flight (AWS documents no answer for it; the
// engine batches only the emulated services' own tables, which no transaction names); and consumed
// capacity is not reported.
import { createRequire } from 'node:module';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

const requireFromHere = createRequire(import.meta.url);

type AttributeMap = Record<string, unknown>;
type Request = Record<string, unknown>;

/** An error as dynalite's code makes them: the HTTP status and the body to answer with. */
interface DynaliteError extends Error {
  statusCode?: number;
  body?: { readonly __type: string; readonly message?: string };
}
type Done = (error?: DynaliteError | null) => void;
type Release = (done: () => void) => () => void;

interface KeySchemaElement {
  readonly AttributeName: string;
}
interface Table {
  readonly TableName: string;
  readonly KeySchema: readonly KeySchemaElement[];
}

interface ItemDb {
  lock(keys: string[], exec: (release: Release) => void): void;
  get(key: string, callback: (error: DynaliteError | null | undefined, item?: AttributeMap) => void): void;
}

interface LevelBatchOperation {
  readonly type: 'put' | 'del';
  readonly key: string;
  readonly value?: unknown;
}

/** The part of dynalite's store (`require('dynalite/db').create()`) transactions use. */
export interface DynaliteStore {
  readonly options: object;
  readonly db: { batch(operations: LevelBatchOperation[], callback: (error?: Error | null) => void): void };
  getTable(name: string, callback: (error: DynaliteError | null, table?: Table) => void): void;
  getItemDb(name: string): ItemDb;
}

type Action = (store: object, data: Request, callback: Done) => void;
interface Validation {
  readonly types: object;
  readonly custom?: (data: Request, store: object) => string | undefined;
}
interface DynaliteDb {
  createKey(item: AttributeMap, table: Table): string;
  validateKey(key: unknown, table: Table): DynaliteError | undefined;
  validateItem(item: unknown, table: Table): DynaliteError | undefined;
  checkConditional(data: Request, existing: AttributeMap | undefined): DynaliteError | undefined | null;
  validationError(message: string): DynaliteError;
}
interface DynaliteValidations {
  checkTypes(data: Request, types: object): Request;
  checkValidations(data: Request, types: object, custom: Validation['custom'], store: object): void;
}

const db = requireFromHere('dynalite/db') as DynaliteDb;
const validations = requireFromHere('dynalite/validations') as DynaliteValidations;

const action = (name: string) => requireFromHere(`dynalite/actions/${name}`) as Action;
const validation = (name: string) => requireFromHere(`dynalite/validations/${name}`) as Validation;

/** Each kind of transaction operation, with the dynalite action and validation it borrows. */
const KINDS = {
  Put: { action: action('putItem'), validation: validation('putItem'), keyOf: (data: Request) => data.Item },
  Update: { action: action('updateItem'), validation: validation('updateItem'), keyOf: (data: Request) => data.Key },
  Delete: { action: action('deleteItem'), validation: validation('deleteItem'), keyOf: (data: Request) => data.Key },
  // A ConditionCheck is a DeleteItem's request that deletes nothing: the same fields, checked alike.
  ConditionCheck: { action: undefined, validation: validation('deleteItem'), keyOf: (data: Request) => data.Key },
} as const;
type Kind = keyof typeof KINDS;

/** DynamoDB's limit of operations in one transaction. */
export const MAX_TRANSACT_ITEMS = 100;
const DYNAMODB = 'com.amazonaws.dynamodb.v20120810';
const CONDITIONAL_CHECK_FAILED = `${DYNAMODB}#ConditionalCheckFailedException`;

/** dynalite's key prefixes inside its one LevelDB (db/index.js: getItemDb, getIndexDb). */
const itemPrefix = (table: string) => `item-${table}~`;
const indexPrefix = (type: string, table: string, index: string) => `index-${type.toLowerCase()}~${table}~${index}~`;

interface Operation {
  readonly kind: Kind;
  readonly data: Request;
  readonly returnOldOnFailure: boolean;
  readonly table: Table;
  readonly key: string;
}

/** What the store answers: a status and a JSON body, as dynalite's own actions do. */
export interface TransactionAnswer {
  readonly status: number;
  readonly body: object;
}

const validationFailure = (message: string): TransactionAnswer => ({
  status: 400,
  body: { __type: 'com.amazon.coral.validate#ValidationException', message },
});

const isRecord = (value: unknown): value is Request => typeof value === 'object' && value !== null && !Array.isArray(value);

function answerFromError(error: unknown): TransactionAnswer {
  const failure = error as DynaliteError;
  if (failure.statusCode && failure.body) return { status: failure.statusCode, body: failure.body };
  throw error;
}

/** Per store, the items of its transactions in flight (`table\0key`): what another write of them conflicts with. */
const heldItems = new WeakMap<DynaliteStore, Set<string>>();
const heldBy = (store: DynaliteStore): Set<string> => {
  let held = heldItems.get(store);
  if (!held) heldItems.set(store, (held = new Set()));
  return held;
};
const itemId = (table: string, key: string) => `${table}\u0000${key}`;

/** Runs one TransactWriteItems request (its parsed JSON body) against the store. */
export async function transactWriteItems(store: DynaliteStore, request: unknown): Promise<TransactionAnswer> {
  const items = isRecord(request) ? request.TransactItems : undefined;
  if (!Array.isArray(items) || items.length === 0)
    return validationFailure(
      "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null",
    );
  if (items.length > MAX_TRANSACT_ITEMS)
    return validationFailure(
      `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TRANSACT_ITEMS}`,
    );
  try {
    const operations = await Promise.all(items.map((item, index) => operationOf(store, item, index)));
    const ids = operations.map((operation) => itemId(operation.table.TableName, operation.key));
    if (new Set(ids).size < ids.length) return validationFailure('Transaction request cannot include multiple operations on one item');
    const held = heldBy(store);
    if (ids.some((id) => held.has(id)))
      return cancelled(
        ids.map((id) =>
          held.has(id) ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : { Code: 'None' },
        ),
      );
    for (const id of ids) held.add(id);
    try {
      return await withLocks(store, operations, () => runLocked(store, operations));
    } finally {
      for (const id of ids) held.delete(id);
    }
  } catch (error) {
    return answerFromError(error);
  }
}

/** Checks one TransactItems entry with dynalite's own validation of the request it resembles. */
async function operationOf(store: DynaliteStore, item: unknown, index: number): Promise<Operation> {
  const kinds = isRecord(item) ? (Object.keys(item).filter((name) => item[name] != null) as Kind[]) : [];
  const kind = kinds[0];
  if (kinds.length !== 1 || kind === undefined || !(kind in KINDS) || !isRecord((item as Request)[kind]))
    throw db.validationError(`TransactItems[${index}] must hold exactly one of ConditionCheck, Put, Delete, Update`);
  const request = (item as Request)[kind] as Request;
  if (kind === 'ConditionCheck' && typeof request.ConditionExpression !== 'string')
    throw db.validationError(`TransactItems[${index}].ConditionCheck needs a ConditionExpression`);
  if (kind === 'Update' && typeof request.UpdateExpression !== 'string')
    throw db.validationError(`TransactItems[${index}].Update needs an UpdateExpression`);
  const returnOldOnFailure = request.ReturnValuesOnConditionCheckFailure === 'ALL_OLD';
  const { types, custom } = KINDS[kind].validation;
  const data = validations.checkTypes({ ...request }, types);
  validations.checkValidations(data, types, custom, store);
  const table = await new Promise<Table>((resolve, reject) =>
    store.getTable(String(data.TableName), (error, found) => (error || !found ? reject(error) : resolve(found))),
  );
  const invalid = kind === 'Put' ? db.validateItem(data.Item, table) : db.validateKey(data.Key, table);
  if (invalid) throw invalid;
  return { kind, data, returnOldOnFailure, table, key: db.createKey(KINDS[kind].keyOf(data) as AttributeMap, table) };
}

/**
 * Takes every item's lock, on each table's lock, in one synchronous step: whoever enqueues first
 * is first in every queue it joins, so no two lock holders can wait on each other.
 */
function withLocks<T>(store: DynaliteStore, operations: readonly Operation[], work: () => Promise<T>): Promise<T> {
  const keysByTable = new Map<string, string[]>();
  for (const { table, key } of operations) keysByTable.set(table.TableName, [...(keysByTable.get(table.TableName) ?? []), key]);
  return new Promise<T>((resolve, reject) => {
    const releases: Array<() => void> = [];
    for (const [table, keys] of keysByTable) {
      store.getItemDb(table).lock(keys, (release) => {
        releases.push(release(() => undefined));
        if (releases.length < keysByTable.size) return;
        work()
          .then(resolve, reject)
          .finally(() => releases.forEach((free) => free()));
      });
    }
  });
}

const readItem = (store: DynaliteStore, operation: Operation) =>
  new Promise<AttributeMap | undefined>((resolve, reject) =>
    store
      .getItemDb(operation.table.TableName)
      .get(operation.key, (error, item) => (error && error.name !== 'NotFoundError' ? reject(error) : resolve(error ? undefined : item))),
  );

/** Under the locks: reads each item, runs each operation's check and write on a staging store, then writes all or nothing. */
async function runLocked(store: DynaliteStore, operations: readonly Operation[]): Promise<TransactionAnswer> {
  const stored = await Promise.all(operations.map((operation) => readItem(store, operation)));
  const writes: LevelBatchOperation[] = [];
  const reasons: object[] = [];
  for (const [index, operation] of operations.entries()) {
    const existing = stored[index];
    const failure =
      operation.kind === 'ConditionCheck'
        ? db.checkConditional(operation.data, existing)
        : await staged(store, operation, existing, writes);
    if (!failure) {
      reasons.push({ Code: 'None' });
      continue;
    }
    if (failure.body?.__type !== CONDITIONAL_CHECK_FAILED) throw failure;
    reasons.push({
      Code: 'ConditionalCheckFailed',
      Message: failure.body.message ?? 'The conditional request failed',
      ...(operation.returnOldOnFailure && existing ? { Item: existing } : {}),
    });
  }
  if (reasons.some((reason) => (reason as { Code: string }).Code !== 'None')) return cancelled(reasons);
  await new Promise<void>((resolve, reject) => store.db.batch(writes, (error) => (error ? reject(error) : resolve())));
  return { status: 200, body: {} };
}

function cancelled(reasons: readonly object[]): TransactionAnswer {
  const codes = reasons.map((reason) => (reason as { Code: string }).Code).join(', ');
  return {
    status: 400,
    body: {
      __type: `${DYNAMODB}#TransactionCanceledException`,
      Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`,
      CancellationReasons: reasons,
    },
  };
}

/**
 * Runs dynalite's own action for the operation over a store whose item reads answer `existing`
 * and whose writes (the item's and its index entries') are appended to `writes`, prefixed as
 * dynalite's LevelDB keys, instead of written. Answers the action's error, if any.
 */
function staged(store: DynaliteStore, operation: Operation, existing: AttributeMap | undefined, writes: LevelBatchOperation[]) {
  const record = (prefix: string) => ({
    put: (key: string, value: unknown, callback: Done) => {
      writes.push({ type: 'put', key: prefix + key, value });
      callback(null);
    },
    del: (key: string, callback: Done) => {
      writes.push({ type: 'del', key: prefix + key });
      callback(null);
    },
  });
  const staging = {
    options: store.options,
    getTable: store.getTable,
    getItemDb: (table: string) => ({
      ...record(itemPrefix(table)),
      // The real lock is held already, by the whole transaction.
      lock: (_key: string, exec: (release: (done: Done) => Done) => void) => exec((done) => done),
      get: (_key: string, callback: (error: null, item?: AttributeMap) => void) => callback(null, existing && structuredClone(existing)),
    }),
    getIndexDb: (type: string, table: string, index: string) => record(indexPrefix(type, table, index)),
  };
  const run = KINDS[operation.kind].action as Action;
  return new Promise<DynaliteError | undefined>((resolve) => run(staging, operation.data, (error) => resolve(error ?? undefined)));
}

const TARGET = 'DynamoDB_20120810.TransactWriteItems';
/** The single-item writes a transaction in flight refuses, and where each names its item. */
const SINGLE_WRITES: Readonly<Record<string, 'Item' | 'Key'>> = {
  'DynamoDB_20120810.PutItem': 'Item',
  'DynamoDB_20120810.UpdateItem': 'Key',
  'DynamoDB_20120810.DeleteItem': 'Key',
};
type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Starts a dynalite server with `start` and makes it answer TransactWriteItems too. The store
 * dynalite builds inside is caught as it is created (`require('dynalite/db').create`).
 */
export function withTransactions(start: () => Server): Server {
  const dbModule = requireFromHere('dynalite/db') as { create: (options?: object) => DynaliteStore };
  const create = dbModule.create;
  let store: DynaliteStore | undefined;
  dbModule.create = (options) => (store = create(options));
  let server: Server;
  try {
    server = start();
  } finally {
    dbModule.create = create;
  }
  if (!store) throw new Error('dynalite built no store through dynalite/db: transactions cannot be added');
  serveTransactions(server, store);
  return server;
}

/**
 * Makes `server` (a dynalite server over `store`) answer TransactWriteItems itself, and hand every
 * other request to dynalite as before.
 */
function serveTransactions(server: Server, store: DynaliteStore): void {
  const [dynaliteHandler, ...others] = server.listeners('request') as Handler[];
  if (!dynaliteHandler || others.length > 0)
    throw new Error('the embedded store has not exactly one request handler: transactions cannot be added');
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const target = request.headers['x-amz-target'];
    if (target === TARGET) return void answerTransaction(store, request, response);
    const itemField = typeof target === 'string' ? SINGLE_WRITES[target] : undefined;
    // Read only while some transaction is in flight: otherwise nothing can conflict.
    if (!itemField || heldBy(store).size === 0) return dynaliteHandler(request, response);
    void screenSingleWrite(store, itemField, request, response, dynaliteHandler);
  });
}

/**
 * A single-item write while transactions are in flight: refused `TransactionConflictException` if
 * one holds its item, else handed to dynalite with its body, which this had to read.
 */
async function screenSingleWrite(
  store: DynaliteStore,
  itemField: 'Item' | 'Key',
  request: IncomingMessage,
  response: ServerResponse,
  dynaliteHandler: Handler,
): Promise<void> {
  const body = await bodyOf(request);
  if (await heldItemOf(store, itemField, body))
    return send(response, {
      status: 400,
      body: { __type: `${DYNAMODB}#TransactionConflictException`, message: 'Transaction is ongoing for the item' },
    });
  // dynalite reads the request as a stream: it gets one with the same head and body.
  const replay = Object.assign(Readable.from([body]), { headers: request.headers, method: request.method, url: request.url });
  dynaliteHandler(replay as unknown as IncomingMessage, response);
}

/** Whether the write in `body` names an item a transaction in flight holds. Malformed requests are left to dynalite to refuse. */
async function heldItemOf(store: DynaliteStore, itemField: 'Item' | 'Key', body: Buffer): Promise<boolean> {
  let data: unknown;
  try {
    data = JSON.parse(body.toString('utf8'));
  } catch {
    return false;
  }
  if (!isRecord(data) || typeof data.TableName !== 'string' || !isRecord(data[itemField])) return false;
  const table = await new Promise<Table | undefined>((resolve) =>
    store.getTable(data.TableName as string, (error, found) => resolve(error ? undefined : found)),
  );
  if (!table || db.validateKey(pick(data[itemField] as AttributeMap, table), table)) return false;
  return heldBy(store).has(itemId(table.TableName, db.createKey(data[itemField] as AttributeMap, table)));
}

/** The item's key attributes alone (a PutItem names the whole item). */
const pick = (item: AttributeMap, table: Table): AttributeMap =>
  Object.fromEntries(table.KeySchema.map(({ AttributeName }) => [AttributeName, item[AttributeName]]));

async function answerTransaction(store: DynaliteStore, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await bodyOf(request);
  let answer: TransactionAnswer;
  try {
    answer = await transactWriteItems(store, JSON.parse(body.toString('utf8')));
  } catch (error) {
    answer =
      error instanceof SyntaxError
        ? { status: 400, body: { __type: 'com.amazon.coral.service#SerializationException' } }
        : { status: 500, body: { __type: `${DYNAMODB}#InternalServerError`, message: (error as Error).message } };
  }
  send(response, answer);
}

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Answers as dynalite does: JSON, with no x-amz-crc32 (the SDK checks the body against it only when it is sent). */
function send(response: ServerResponse, answer: TransactionAnswer): void {
  const body = Buffer.from(JSON.stringify(answer.body));
  response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': body.length });
  response.end(body);
}
