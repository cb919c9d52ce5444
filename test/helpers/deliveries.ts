// Test helper: deliveries of release-bot's tasks, as the delivery vault tests (local engine and moto) hand them over.
import { deliverySecretName, grantIdFor } from '../../lambdas/domain/ids';
import type { Delivery, DeliveryPayload } from '../../lambdas/ports';

export const READER = 'arn:aws:iam::111122223333:role/agent-runtime';
export const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
export const SESSION_TOKEN = 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN';

/** A delivery of release-bot's task with this payload, readable by READER. */
export function delivery(taskId: string, payload: Omit<DeliveryPayload, 'grantId' | 'scopes'>, expiresAt?: string): Delivery {
  const grantId = grantIdFor('release-bot', taskId);
  return {
    name: deliverySecretName('release-bot', taskId),
    grantId,
    agentId: 'release-bot',
    taskId,
    readerArn: READER,
    ...(expiresAt ? { expiresAt } : {}),
    payload: { ...payload, grantId, scopes: ['repo-read'] },
  };
}

/** An issued session's delivery of release-bot's task, expiring in 2030. */
export const issued = (taskId: string): Delivery =>
  delivery(
    taskId,
    {
      status: 'issued',
      kind: 'aws-sts-session',
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: SECRET_ACCESS_KEY,
      sessionToken: SESSION_TOKEN,
      expiration: '2030-01-01T00:15:00.000Z',
    },
    '2030-01-01T00:15:00.000Z',
  );

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
