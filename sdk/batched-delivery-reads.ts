// SDK: a client waiting for many tasks at once reads their deliveries together. Reads asked for
// while one is on the wire wait for it and then go in one call, up to 20 as one
// BatchGetSecretValue (Nagle's algorithm, as the local engine shares its PutEvents calls): a
// runtime waiting for one task reads with GetSecretValue as before, an orchestrator waiting for a
// hundred makes a fraction of the calls, each read at the time its wait asked for it or at most
// 20 ms later. BatchGetSecretValue has no resource type, so only the runtime's own IAM policy can
// allow it: a runtime refused the call as a whole is told so once, and its client reads each
// delivery alone from then on. Each secret in the batch is still authorised as GetSecretValue
// (the delivery's resource policy), and one refused or missing secret is no failure of the others.
import { BatchGetSecretValueCommand, SecretsManagerServiceException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { deliverySecretName } from '../lambdas/domain/ids';
import { TaskboundError } from './errors';
import { readingOfError, readingOfSecret, secretsManagerReader, type DeliveryReader, type TimedReading } from './delivery-readers';
import type { TaskRef } from './types';

/** BatchGetSecretValue reads at most 20 secrets a call. */
const BATCH_MAX = 20;
/**
 * The longest a read waits for the call on the wire before it goes anyway: a call that hangs (a
 * slow connection, a socket timeout) must not hold every other wait of the client. Well under the
 * wait's shortest step (100 ms); an answering engine or AWS is back long before it.
 */
const HOLD_MAX_MS = 20;

interface Waiting {
  readonly task: TaskRef;
  readonly name: string;
  readonly resolve: (reading: TimedReading) => void;
  readonly reject: (error: unknown) => void;
}

/** A Secrets Manager reader whose concurrent reads share calls; each read's answer is as GetSecretValue's would be. */
export function batchedSecretsManagerReader(client: SecretsManagerClient): DeliveryReader {
  const single = secretsManagerReader(client);
  const waiting: Waiting[] = [];
  let onTheWire = 0;
  let batchRefused = false;

  const readAlone = (taken: readonly Waiting[]) => Promise.all(taken.map((each) => single(each.task).then(each.resolve, each.reject)));

  const readTogether = async (taken: readonly Waiting[]): Promise<void> => {
    if (taken.length === 1 || batchRefused) return void (await readAlone(taken));
    const names = [...new Set(taken.map((each) => each.name))];
    let answer;
    try {
      answer = await client.send(new BatchGetSecretValueCommand({ SecretIdList: names }));
    } catch (error) {
      // Refused as a whole: the runtime's IAM policy lacks the action. Read alone, now and from now on.
      if (error instanceof Error && error.name === 'AccessDeniedException') {
        batchRefused = true;
        return void (await readAlone(taken));
      }
      for (const each of taken) each.reject(error);
      return;
    }
    const values = new Map((answer.SecretValues ?? []).map((value) => [value.Name, value]));
    const errors = new Map((answer.Errors ?? []).map((error) => [error.SecretId, error]));
    for (const each of taken) {
      try {
        each.resolve(readingOf(each, values.get(each.name), errors.get(each.name)));
      } catch (error) {
        each.reject(error);
      }
    }
  };

  let holding: NodeJS.Timeout | undefined;
  const send = (taken: readonly Waiting[]) => {
    onTheWire += 1;
    void readTogether(taken).finally(() => {
      onTheWire -= 1;
      sendWhatIsReady();
    });
  };
  // A full call goes at once; a partial one when nothing is on the wire, or once it has waited HOLD_MAX_MS for it.
  const sendWhatIsReady = () => {
    while (waiting.length > 0 && (onTheWire === 0 || waiting.length >= BATCH_MAX)) send(waiting.splice(0, BATCH_MAX));
    if (waiting.length === 0) {
      clearTimeout(holding);
      holding = undefined;
      return;
    }
    holding ??= setTimeout(() => {
      holding = undefined;
      if (waiting.length > 0) send(waiting.splice(0, BATCH_MAX));
    }, HOLD_MAX_MS).unref();
  };

  return (task) => {
    if (batchRefused) return single(task);
    return new Promise<TimedReading>((resolve, reject) => {
      waiting.push({ task, name: deliverySecretName(task.agentId, task.taskId), resolve, reject });
      sendWhatIsReady();
    });
  };
}

type BatchError = { readonly ErrorCode?: string; readonly Message?: string };

/** One secret of a batch as GetSecretValue would have answered it: found, or the error the batch lists for it. */
function readingOf(
  each: Waiting,
  value: { readonly SecretString?: string; readonly CreatedDate?: Date } | undefined,
  error: BatchError | undefined,
): TimedReading {
  if (value) return readingOfSecret(each.task, value);
  if (error) return readingOfError(serviceError(error));
  throw new TaskboundError(`BatchGetSecretValue answered nothing for the delivery of ${each.task.agentId}/${each.task.taskId}`);
}

/** A secret's error in a batch as the exception GetSecretValue would have thrown: the SDK's class, named by its code. */
function serviceError(error: BatchError): SecretsManagerServiceException {
  const name = error.ErrorCode || 'UnknownError';
  return new SecretsManagerServiceException({ name, $fault: 'client', message: error.Message ?? name, $metadata: {} });
}
