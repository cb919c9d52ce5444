// Domain: the people the policy names (docs/contract.md §4) and how an authenticated caller maps to
// one of them. Decisions count only for a person the engine authenticated: an AWS principal
// (the operator endpoint) or a Slack user (signed interactions), never a name in an event.

/** A person as the policy file declares them under `people:`. */
export interface Person {
  readonly awsPrincipals: readonly string[];
  readonly slackUserIds: readonly string[];
}

export type People = Readonly<Record<string, Person>>;

/** Person ids look like e-mail addresses: they are what owners and approver groups name. */
export const PERSON_ID_PATTERN = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,190}$/;
/** The IAM role or user ARNs a person may be declared with (exact, no wildcards). */
export const IAM_PRINCIPAL_PATTERN = /^arn:(aws[a-z-]*):iam::(\d{12}):(role|user)\/([\w+=,.@/-]{1,512})$/;
export const SLACK_USER_PATTERN = /^[UW][A-Z0-9]{2,30}$/;
/** What a Lambda function URL reports for an assumed-role session. */
const ASSUMED_ROLE_PATTERN = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/[\w+=,.@-]{1,64}$/;

/**
 * The identity an ARN stands for, independent of IAM paths and of case: role and user names are
 * unique in an account whatever their path and whatever their case (IAM refuses `Ops` beside
 * `ops`), and an assumed-role session ARN carries no path at all.
 * `arn:aws:sts::1:assumed-role/ops/s` and `arn:aws:iam::1:role/team/Ops` have the same key.
 */
export function principalKey(arn: string): string | undefined {
  const session = ASSUMED_ROLE_PATTERN.exec(arn);
  if (session) return `${session[1]}|${session[2]}|role|${(session[3] ?? '').toLowerCase()}`;
  const principal = IAM_PRINCIPAL_PATTERN.exec(arn);
  if (!principal) return undefined;
  const name = (principal[4] ?? '').split('/').at(-1) ?? '';
  return name ? `${principal[1]}|${principal[2]}|${principal[3]}|${name.toLowerCase()}` : undefined;
}

/** Who a caller turned out to be, or why they count for no one. */
export type Identification = { readonly ok: true; readonly person: string } | { readonly ok: false; readonly reason: string };

/** Maps an authenticated AWS principal ARN (an IAM role or user, or a role's session) to its person. */
export function personForPrincipal(people: People, arn: string): Identification {
  const key = principalKey(arn);
  if (!key) return { ok: false, reason: `caller ${arn.slice(0, 256)} is not an IAM role, role session or user` };
  const matches = Object.entries(people).filter(([, person]) => person.awsPrincipals.some((declared) => principalKey(declared) === key));
  // The policy refuses a principal declared for two people; this guard keeps it so at run time.
  if (matches.length !== 1) {
    return {
      ok: false,
      reason:
        matches.length === 0
          ? `caller ${arn.slice(0, 256)} is not mapped to a person under people in the policy`
          : `caller ${arn.slice(0, 256)} maps to more than one person`,
    };
  }
  return { ok: true, person: (matches[0] as [string, Person])[0] };
}

/** Maps a Slack user (from a signature-verified interaction) to its person. */
export function personForSlackUser(people: People, slackUserId: string): Identification {
  const matches = Object.entries(people).filter(([, person]) => person.slackUserIds.includes(slackUserId));
  if (matches.length !== 1) {
    return {
      ok: false,
      reason:
        matches.length === 0
          ? `Slack user ${slackUserId.slice(0, 64)} is not mapped to a person under people in the policy`
          : `Slack user ${slackUserId.slice(0, 64)} maps to more than one person`,
    };
  }
  return { ok: true, person: (matches[0] as [string, Person])[0] };
}

/**
 * Whether `name` (an owner or a task's `requestedBy`, as the event wrote it) designates
 * `person`: their id in any case (`Lead@Example.com` is `lead@example.com`, as mail treats it),
 * one of their AWS principals (or a session of one, the name in any case, as IAM treats it), or a
 * Slack id. Separation of duties holds however the requester was spelled.
 */
export function designates(people: People, person: string, name: string | undefined): boolean {
  if (name === undefined) return false;
  if (name.trim().toLowerCase() === person.toLowerCase()) return true;
  const declared = people[person];
  if (!declared || !Object.hasOwn(people, person)) return false;
  if (declared.slackUserIds.includes(name.trim().toUpperCase())) return true;
  const key = principalKey(name);
  return key !== undefined && declared.awsPrincipals.some((arn) => principalKey(arn) === key);
}
