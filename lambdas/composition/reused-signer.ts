// Composition: one SigV4 signer per SDK client and signing scope, instead of one per request. Applied
// where the engine's long-lived clients are built (aws-engine.ts, and the local engine's clients).
import type { AuthScheme, RequestSigner } from '@aws-sdk/types';

type SignerProvider = (authScheme?: AuthScheme) => Promise<RequestSigner>;

/**
 * The SDK's default signer provider builds a new `SignatureV4` for every request, copying the
 * client's whole resolved config each time (about 20 µs of CPU per call). What it builds depends
 * only on the client's config and the signing scope, which the client's first request fixes, so
 * the client's own provider is asked once per scope and its signer kept. Credentials are still read
 * on every request (the signer calls the client's refreshing credential provider each time it
 * signs), and signing keys stay in the signer's own cache, as before.
 */
export function reuseSigner<C extends { readonly config: object }>(client: C): C {
  const config = client.config as { signer?: SignerProvider };
  const build = config.signer;
  if (typeof build !== 'function') return client;
  const signers = new Map<string, Promise<RequestSigner>>();
  config.signer = (authScheme) => {
    const scope = `${authScheme?.name ?? ''}|${authScheme?.signingName ?? ''}|${authScheme?.signingRegion ?? ''}`;
    let signer = signers.get(scope);
    if (!signer) {
      signer = build(authScheme);
      signers.set(scope, signer);
      // A build that failed (a region provider that threw) is tried again by the next request, as it was before.
      signer.catch(() => signers.delete(scope));
    }
    return signer;
  };
  return client;
}
