// CLI command: `leak CREDENTIAL` → `Credential Leaked` (trigger `leaked`), then waits until the
// engine has revoked the credential and proven it dead, as `revoke` does. It looks the credential
// up first, as the engine will: a report the engine can match to no grant is only recorded, so
// the person reporting must hear at once that nothing will be revoked and what to do instead.
import type { Grant } from '../../lambdas/domain/grant';
import { INBOUND, credentialLeakedSchema } from '../../lambdas/domain/events';
import { namedByLeak } from '../../lambdas/domain/leak-target';
import { waitSeconds } from '../await-engine';
import { EXIT, UsageError, type CliDeps, type ExitCode } from '../context';
import { json } from '../output';
import { actor, dispatch } from '../send';
import { validated } from '../validate';
import { awaitRevocation, isSettled, revocationOutcome } from './revoke';

export interface LeakOptions {
  readonly evidence?: string;
  readonly as?: string;
  readonly wait?: string;
  readonly json?: boolean;
}

/** The grant holding what the report names, looked up as the engine's report-leak does. */
async function grantNamed(deps: CliDeps, credentialId: string): Promise<Grant | undefined> {
  const named = namedByLeak(credentialId);
  if ('accessKeyId' in named) return deps.store.findByCredentialId(named.accessKeyId);
  if (named.grantIds.length === 0) {
    throw new UsageError(
      `"${credentialId.slice(0, 128)}" is neither an access key id (AKIA… or ASIA…) nor a delivery secret's name or ARN (taskbound/<agent>/<task>)`,
    );
  }
  for (const grantId of named.grantIds) {
    const grant = await deps.store.get(grantId);
    if (grant) return grant;
  }
  return undefined;
}

/** What to do about a credential Taskbound did not issue: nothing here can kill it. */
function notOurs(credentialId: string): string[] {
  const own = credentialId.startsWith('AKIA')
    ? `deactivate it yourself (aws iam update-access-key --access-key-id ${credentialId} --status Inactive --user-name <its user>)`
    : credentialId.startsWith('ASIA')
      ? "revoke its role's sessions yourself (IAM console: the role's Revoke active sessions)"
      : 'check the name: a delivery is named taskbound/<agent>/<task>';
  return [
    `taskbound: no grant holds ${credentialId}: Taskbound did not issue it (or its grant is gone), so the engine cannot revoke it; nothing was sent.`,
    `If it is a live AWS credential, ${own}.`,
  ];
}

/** Reports a credential leaked: the engine revokes its grant at once, rotates its secrets and proves it dead. */
export async function leak(deps: CliDeps, credentialId: string, options: LeakOptions): Promise<ExitCode> {
  const seconds = waitSeconds(options.wait);
  const detail = validated(
    credentialLeakedSchema,
    {
      credentialId,
      reportedBy: await actor(deps, options.as),
      ...(options.evidence === undefined ? {} : { evidence: options.evidence }),
    },
    'leak report',
    { credentialId: 'CREDENTIAL', reportedBy: '--as', evidence: '--evidence' },
  );
  const grant = await grantNamed(deps, detail.credentialId);
  if (!grant) {
    notOurs(detail.credentialId).forEach((line) => deps.err(line));
    return EXIT.failure;
  }
  const { grantId } = grant;
  if (isSettled(grant)) {
    const already = `nothing to revoke: ${detail.credentialId} belongs to ${revocationOutcome(grant)}`;
    deps.out(options.json ? json({ grantId, sent: false, state: grant.state, outcome: already, grant }) : already);
    return EXIT.ok;
  }
  const eventId = await dispatch(deps, { detailType: INBOUND.credentialLeaked, detail });
  if (eventId === undefined) return EXIT.failure;
  if (seconds === 0) {
    deps.out(
      options.json
        ? json({ grantId, sent: true, eventId, waited: false })
        : `leak of ${detail.credentialId} reported; the engine revokes grant ${grantId} (event ${eventId})`,
    );
    return EXIT.ok;
  }
  return awaitRevocation(deps, grantId, eventId, seconds, options.json);
}
