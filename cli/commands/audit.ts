// CLI command: `audit verify`: recomputes every grant's hash-linked audit chain, so an
// edited, dropped or reordered entry anywhere in the table is found and named.
import { verifyChain } from '../../lambdas/domain/audit';
import { EXIT, type CliDeps, type ExitCode } from '../context';

/** Verifies all chains; exit 1 naming each grant whose chain is broken. */
export async function verifyAudit(deps: CliDeps): Promise<ExitCode> {
  const grants = await deps.store.listGrants();
  let broken = 0;
  for (const grant of grants) {
    const verdict = verifyChain(grant.grantId, grant.audit);
    if (verdict.ok) continue;
    broken++;
    deps.err(`BROKEN ${grant.grantId} (${grant.agentId}/${grant.taskId}): ${verdict.why}`);
  }
  if (broken > 0) {
    deps.err(`${broken} of ${grants.length} audit chains do not verify`);
    return EXIT.failure;
  }
  deps.out(`${grants.length} audit chains verify`);
  return EXIT.ok;
}
