// Adapter (AWS IAM/STS): compiles a task's scopes into the one IAM policy its credential
// carries, refusing (never truncating) a scope set that AWS could not hold.
import { UnissuableRequestError } from '../../domain/errors';
import type { CredentialKind, PolicyStatement } from '../../domain/policy';
import { secretArnPatterns } from '../../domain/privilege';
import { canaryStatement } from '../../domain/canary';

/**
 * Where the compiled policy goes and how many characters AWS lets it have:
 * - an STS inline session policy: at most 2,048 characters of plaintext (AssumeRole `Policy`);
 *   STS then also packs policy and session tags into a binary form with its own limit,
 *   which only STS can measure (`PackedPolicyTooLarge`, handled by the STS issuer);
 * - an IAM user's inline policies: 2,048 characters in aggregate per user (IAM ignores
 *   white space; the compiled policy has none outside strings, so counting it all is safe).
 */
export const POLICY_LIMITS: Readonly<Record<CredentialKind, { readonly maxChars: number; readonly holder: string }>> = {
  'aws-sts-session': { maxChars: 2048, holder: 'an STS session policy' },
  'aws-iam-access-key': { maxChars: 2048, holder: "an IAM user's inline policies" },
};

/** What a credential with no scope and no secret may do: nothing, said explicitly. */
export const DENY_EVERYTHING: PolicyStatement = { Effect: 'Deny', Action: '*', Resource: '*' };

/** Characters IAM and STS accept in a policy document (tab, LF, CR, and U+0020 to U+00FF). */
const POLICY_CHARACTERS = /^[\t\n\r\u0020-\u00ff]*$/;

export interface TaskPolicyInput {
  readonly statements: readonly PolicyStatement[];
  /** Brokered secrets: the task may call exactly `secretsmanager:GetSecretValue` on them. */
  readonly brokeredSecretArns: readonly string[];
}

export interface CompiledPolicy {
  /** Minified JSON, ready for AssumeRole `Policy` or PutUserPolicy `PolicyDocument`. */
  readonly document: string;
  readonly chars: number;
}

/** Keeps the author's fields in IAM's usual order, so equal statements serialize equally. */
function normalize(statement: PolicyStatement): PolicyStatement {
  return {
    ...(statement.Sid ? { Sid: statement.Sid } : {}),
    Effect: statement.Effect,
    ...(statement.Action !== undefined ? { Action: statement.Action } : { NotAction: statement.NotAction }),
    ...(statement.Resource !== undefined ? { Resource: statement.Resource } : { NotResource: statement.NotResource }),
    ...(statement.Condition ? { Condition: statement.Condition } : {}),
  };
}

function secretsStatement(arns: readonly string[]): PolicyStatement | undefined {
  const unique = [...new Set(arns.flatMap(secretArnPatterns))];
  if (unique.length === 0) return undefined;
  return { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: unique.length === 1 ? unique[0]! : unique };
}

/**
 * Compiles a task's statements and brokered secrets into one minified policy for `kind`.
 * Scopes often repeat a statement; exact duplicates are written once. A task with nothing
 * granted compiles to an explicit deny of everything: an absent session policy would hand
 * the session the whole role, so "nothing" must be written down.
 *
 * @throws UnissuableRequestError when the policy cannot fit where `kind` puts it, or holds
 *   characters IAM rejects; the message says why, and nothing is cut to make it fit.
 */
export function compileTaskPolicy(input: TaskPolicyInput, kind: CredentialKind): CompiledPolicy {
  const serialized = new Set(input.statements.map((statement) => JSON.stringify(normalize(statement))));
  const secrets = secretsStatement(input.brokeredSecretArns);
  if (secrets) serialized.add(JSON.stringify(secrets));
  if (serialized.size === 0) serialized.add(JSON.stringify(DENY_EVERYTHING));
  const document = `{"Version":"2012-10-17","Statement":[${[...serialized].join(',')}]}`;

  if (!POLICY_CHARACTERS.test(document)) {
    throw new UnissuableRequestError(
      'the task policy contains characters IAM does not accept in a policy (only tab, line breaks and U+0020 to U+00FF); nothing was issued',
    );
  }
  const limit = POLICY_LIMITS[kind];
  if (document.length > limit.maxChars) {
    throw new UnissuableRequestError(
      `the task's scopes compile to a ${document.length}-character policy, over the ${limit.maxChars} characters ` +
        `${limit.holder} may hold (${kind}); nothing was issued and nothing was cut: request fewer scopes or split the task`,
    );
  }
  return { document, chars: document.length };
}

/**
 * The policy an issued credential carries: its task's, and for a session with a canary, the canary's one
 * permission (a refused canary call then proves the session dead). The STS issuer attaches it; the
 * local engine judges the credential's calls by it.
 */
export function compileIssuedPolicy(input: TaskPolicyInput, kind: CredentialKind, canaryArnPattern?: string): CompiledPolicy {
  const statements = canaryArnPattern ? [...input.statements, canaryStatement(canaryArnPattern)] : input.statements;
  return compileTaskPolicy({ ...input, statements }, kind);
}
