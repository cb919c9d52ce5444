// Test helper: an AWS endpoint on loopback whose every answer the test writes, for a client of the
// real AWS SDK (its serialization, its error parsing) pointed at it with example credentials.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackEndpoint {
  /** Client settings that reach it: region, endpoint, example credentials, no SDK retry. */
  readonly clientConfig: {
    readonly region: string;
    readonly endpoint: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
    readonly maxAttempts: 1;
  };
  close(): Promise<void>;
}

/** Serves `answer` for each request once its body is read (given as text). */
export async function loopbackEndpoint(
  answer: (request: IncomingMessage, response: ServerResponse, body: string) => void,
): Promise<LoopbackEndpoint> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => answer(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    clientConfig: {
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
      maxAttempts: 1,
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
