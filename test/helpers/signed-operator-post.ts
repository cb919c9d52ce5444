// Test helper: a POST to the local engine's operator route, SigV4-signed by hand (service `lambda`,
// as for a Lambda function URL), as any SigV4 client would sign it.
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../lambdas/adapters/aws/node-sha256';

export interface OperatorAnswer {
  readonly status: number;
  readonly body: { readonly outcome: string; readonly reason?: string; readonly remaining?: number };
}

/** A POST signed once; `send` sends those very bytes, as often as called (a captured request, replayed). */
export async function signOperatorPost(
  operatorUrl: string,
  credentials: { readonly accessKeyId: string; readonly secretAccessKey: string },
  payload: unknown,
  options: { readonly region?: string; readonly service?: string } = {},
): Promise<{ readonly send: () => Promise<OperatorAnswer> }> {
  const url = new URL(operatorUrl);
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const signer = new SignatureV4({
    credentials,
    region: options.region ?? 'us-east-1',
    service: options.service ?? 'lambda',
    sha256: NodeSha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  const { host: _host, ...headers } = signed.headers;
  return {
    send: async () => {
      const response = await fetch(url, { method: 'POST', headers, body });
      return { status: response.status, body: (await response.json()) as OperatorAnswer['body'] };
    },
  };
}

export async function signedOperatorPost(
  operatorUrl: string,
  credentials: { readonly accessKeyId: string; readonly secretAccessKey: string },
  payload: unknown,
  options: { readonly region?: string; readonly service?: string } = {},
): Promise<OperatorAnswer> {
  return (await signOperatorPost(operatorUrl, credentials, payload, options)).send();
}
