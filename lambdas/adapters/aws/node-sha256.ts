// Adapter primitive: SHA-256 hash and HMAC in the shape the smithy SigV4 signer expects, shared by
// the local engine's verifier and the CLI's operator-endpoint signer: the SDK's own, on Node's crypto.
export { Sha256Node as NodeSha256 } from '@smithy/core/checksum';
