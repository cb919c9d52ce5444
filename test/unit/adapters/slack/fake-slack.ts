// Test helper: a real HTTP server on loopback that plays Slack. It records every post and
// answers from a script (429 with Retry-After, 500, then 200), like Slack's edge would.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedPost {
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface ScriptedAnswer {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FakeSlack {
  readonly url: string;
  readonly posts: RecordedPost[];
  /** Answers used in order; once used up, `fallback` answers. */
  script(...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

/** `fallback` builds the normal answer, e.g. `{ ok: true, ts }` for the Web API. */
export async function startFakeSlack(
  fallback: (post: RecordedPost, index: number) => ScriptedAnswer = () => ({ status: 200, body: 'ok' }),
): Promise<FakeSlack> {
  const posts: RecordedPost[] = [];
  const queue: ScriptedAnswer[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const post = { path: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
      posts.push(post);
      const answer = queue.shift() ?? fallback(post, posts.length);
      response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      response.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    script: (...answers) => queue.push(...answers),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A sleep that only records how long it was asked to wait: retries without real delay. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}
