// Shared constants: the names every runtime (AWS, the local engine, the CDK app, the CLI, the
// bench) must agree on, defined once. No imports: anything may import this module.

/** The `source` of every event the engine publishes (docs/contract.md §1); only the engine may use it. */
export const ENGINE_SOURCE = 'taskbound';

/** The account id the local engine answers with in ARNs and GetCallerIdentity (as LocalStack and moto do). */
export const LOCAL_ACCOUNT_ID = '000000000000';

/**
 * The SigV4 credential scope in an Authorization header:
 * `Credential=<access key id>/<yyyymmdd>/<region>/<service>/aws4_request`. Groups: access key id, service.
 */
export const CREDENTIAL_SCOPE = /Credential=([^/,\s]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/;
