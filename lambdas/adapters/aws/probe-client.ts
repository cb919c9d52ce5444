// Adapter support (AWS probes): the one SDK client a probe keeps, and how each command it sends is
// signed by the credential that command probes (sts-credential-probe.ts, canary-probe.ts).
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AwsCredentialIdentity, HandlerExecutionContext, MiddlewareStack, SerializeMiddleware } from '@aws-sdk/types';
import { getSmithyContext } from '@smithy/core';
import { SignatureV4 } from '@smithy/signature-v4';
import { PROBE_USER_AGENT } from '../../domain/use-after-revocation';
import type { CredentialMaterial } from '../../ports';

export interface ProbeClientOptions {
  readonly region: string;
  /** The local engine's URL, or a VPC endpoint; AWS's regional endpoint when absent. */
  readonly endpoint?: string;
  /** SDK attempts per probe (throttling and network errors are retried within one probe). */
  readonly maxAttempts?: number;
}

const SIGV4 = 'aws.auth#sigv4';

/** What the SDK's auth middleware hands the signer before a command's own credential replaces it. */
const NO_CREDENTIAL = Object.freeze({ probeCredential: 'none' });

interface HttpSigner {
  sign(request: unknown, identity: unknown, signingProperties: Record<string, unknown>): Promise<unknown>;
  errorHandler?(signingProperties: Record<string, unknown>): (error: Error) => never;
  successHandler?(response: unknown, signingProperties: Record<string, unknown>): void;
}

interface AuthScheme {
  readonly schemeId: string;
  readonly identityProvider: (config: unknown) => unknown;
  readonly signer: HttpSigner;
}

/** The resolved config fields this module reads or replaces (all part of every AWS SDK v3 client's config). */
interface SigningConfig {
  httpAuthSchemes: AuthScheme[];
  readonly sha256: unknown;
  readonly signingEscapePath?: boolean;
}

interface SdkClient {
  readonly config: object;
}

const isCredential = (identity: unknown): identity is AwsCredentialIdentity =>
  typeof identity === 'object' &&
  identity !== null &&
  typeof (identity as AwsCredentialIdentity).accessKeyId === 'string' &&
  typeof (identity as AwsCredentialIdentity).secretAccessKey === 'string';

/**
 * Signs with the identity it is handed, the Smithy signer contract; the SDK's own SigV4 signer instead
 * signs with the client's credential provider, which is one per client and memoized. The SDK's signer
 * still does the signing (skew-corrected time, signing name and region from the endpoint, clock-skew
 * correction on errors), given a SigV4 signer that holds only this identity.
 */
function identitySigner(sdkSigner: HttpSigner): HttpSigner {
  return {
    async sign(request, identity, signingProperties) {
      // Fails closed: nothing here can sign with another credential, and an unsigned probe is an error, not a refusal.
      if (!isCredential(identity)) throw new Error('a probe command carried no credential of its own: not sent');
      const config = signingProperties.config as SigningConfig;
      const signer = new SignatureV4({
        credentials: identity,
        region: String(signingProperties.signingRegion ?? signingProperties.region),
        service: String(signingProperties.signingName ?? signingProperties.name),
        sha256: config.sha256 as never,
        uriEscapePath: config.signingEscapePath ?? true,
      });
      // The client's config seen through a layer whose signer is this one. What the SDK's signer notes on the
      // properties (when it sent, the clock offset it assumed) still lands on them: its error handler reads it there.
      const withSigner = Object.create(config, { signer: { value: async () => signer } }) as object;
      const properties = new Proxy(signingProperties, { get: (target, key) => (key === 'config' ? withSigner : Reflect.get(target, key)) });
      return sdkSigner.sign(request, identity, properties);
    },
    errorHandler: (signingProperties) =>
      sdkSigner.errorHandler?.(signingProperties) ??
      ((error) => {
        throw error;
      }),
    successHandler: (response, signingProperties) => sdkSigner.successHandler?.(response, signingProperties),
  };
}

/**
 * Builds the one client a probe keeps, by `make`, over one kept-alive connection pool. It has no credential
 * of its own: each command is sent with `withCredential`, which signs it with the probed credential alone.
 *
 * The middleware chain is resolved per call (no `cacheMiddleware`): a cached chain shares one context
 * between concurrent calls, and each call's credential is set in its own context.
 */
export function keptProbeClient<C extends SdkClient>(
  make: (config: ReturnType<typeof probeClientConfig>) => C,
  options: ProbeClientOptions,
): C {
  const client = make(probeClientConfig(options));
  const config = client.config as SigningConfig;
  const sdkScheme = config.httpAuthSchemes.find((scheme) => scheme.schemeId === SIGV4);
  if (!sdkScheme) throw new Error(`a probe client needs SigV4 (${SIGV4}); this client does not offer it`);
  // SigV4 only, never the identity the SDK would look up: the command's credential replaces the placeholder.
  config.httpAuthSchemes = [
    { schemeId: SIGV4, identityProvider: () => async () => NO_CREDENTIAL, signer: identitySigner(sdkScheme.signer) },
  ];
  return client;
}

/** `command`, made to be signed with `material` alone when a kept probe client sends it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any command of any client: the middleware reads neither input nor output
export function withCredential<T extends { readonly middlewareStack: MiddlewareStack<any, any> }>(
  command: T,
  material: CredentialMaterial,
): T {
  const credential: AwsCredentialIdentity = {
    accessKeyId: material.accessKeyId,
    secretAccessKey: material.secretAccessKey,
    ...(material.sessionToken ? { sessionToken: material.sessionToken } : {}),
  };
  // Runs right after the SDK's auth middleware chose the scheme (with the placeholder), before anything signs.
  const signedByTheCommandsCredential: SerializeMiddleware<object, object> = (next, context) => async (args) => {
    const smithy = getSmithyContext(context);
    const scheme = smithy.selectedHttpAuthScheme as object | undefined;
    if (scheme) smithy.selectedHttpAuthScheme = { ...scheme, identity: credential };
    return next(args);
  };
  command.middlewareStack.addRelativeTo(signedByTheCommandsCredential, {
    relation: 'after',
    toMiddleware: 'httpAuthSchemeMiddleware',
    name: 'taskboundProbeCredential',
  });
  return command;
}

/** The credential a probe's call is signed with, as middleware sees it once the auth step ran (tests stand in for AWS with it). */
export function probeCredentialOf(context: HandlerExecutionContext): AwsCredentialIdentity | undefined {
  const identity = (getSmithyContext(context).selectedHttpAuthScheme as { identity?: unknown } | undefined)?.identity;
  return isCredential(identity) ? identity : undefined;
}

/** No credential, the probe's user agent, a kept-alive pool, and a chain resolved per call. */
function probeClientConfig(options: ProbeClientOptions) {
  return {
    region: options.region,
    requestHandler: keptAliveAgents(),
    // CloudTrail records it: how the use-after-revocation check tells the engine's probes apart.
    customUserAgent: PROBE_USER_AGENT,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    cacheMiddleware: false,
    // Never asked (the probe's scheme has its own placeholder), and refused if it were: no default chain lookup.
    credentials: async (): Promise<never> => {
      throw new Error('a probe client has no credential of its own');
    },
  };
}

/** A new TCP (and TLS) connection per probe would cost more than the probe. */
const keptAliveAgents = () => ({
  httpAgent: new HttpAgent({ keepAlive: true }),
  httpsAgent: new HttpsAgent({ keepAlive: true }),
});
