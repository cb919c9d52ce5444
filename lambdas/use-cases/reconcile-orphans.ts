// Use case: orphan reconciliation. Lists what exists on the platform (delivery secrets,
// listable credentials) and kills whatever no live grant accounts for: a restored table, a
// deleted record or a bug must not leave a working credential behind.
import { FINAL_STATES, type Grant } from '../domain/grant';
import { grantIdFor } from '../domain/ids';
import type { CredentialKind } from '../domain/policy';
import { CREDENTIAL_KINDS } from '../domain/policy';
import { errorCode, silentLogger, type EngineDeps } from './engine-deps';

export interface OrphanReport {
  readonly deliveriesChecked: number;
  readonly credentialsChecked: number;
  readonly orphans: number;
  readonly errors: number;
}

const DELIVERY_NAME = /^taskbound\/([a-z0-9][a-z0-9-]{0,62})\/([A-Za-z0-9._:-]{1,128})$/;

/** A grant still needs its credential (and its delivery) unless it is settled. */
const accountsFor = (grant: Grant | undefined) => grant !== undefined && !FINAL_STATES.includes(grant.state);

export async function reconcileOrphans(deps: EngineDeps): Promise<OrphanReport> {
  const logger = deps.logger ?? silentLogger;
  const counts = { deliveriesChecked: 0, credentialsChecked: 0, orphans: 0, errors: 0 };
  const orphan = async (
    grantId: string,
    what: string,
    kill: () => Promise<unknown>,
    grant: Grant | undefined,
    where: { readonly account?: string } = {},
  ) => {
    try {
      await kill();
      counts.orphans++;
      const now = deps.clock.now().toISOString();
      await deps.events.publish([
        {
          detailType: 'Orphan Credential Found',
          detail: {
            grantId,
            taskId: grant?.taskId ?? 'unknown',
            agentId: grant?.agentId ?? 'unknown',
            at: now,
            ...where,
            reason: `${what} with ${grant ? `a ${grant.state} grant` : 'no grant record'}; removed`,
          },
        },
      ]);
    } catch (error) {
      counts.errors++;
      logger.error('could not remove an orphan', { grantId, what, error: errorCode(error) });
    }
  };

  for await (const delivery of deps.vault.listDeliveries()) {
    counts.deliveriesChecked++;
    const named = DELIVERY_NAME.exec(delivery.name);
    const grantId = delivery.grantId ?? (named ? grantIdFor(named[1]!, named[2]!) : undefined);
    if (!grantId) continue;
    const grant = await deps.store.get(grantId);
    // A settled grant keeps its delivery only while the sweep still owes it a clean-up.
    if (accountsFor(grant) || grant?.deliverySecret === delivery.name) continue;
    await orphan(grantId, 'a delivery secret', () => deps.vault.destroy(delivery.name), grant);
  }

  for (const kind of CREDENTIAL_KINDS) {
    const issuer = deps.issuers[kind as CredentialKind];
    if (!issuer.listIssued) continue;
    for await (const issued of issuer.listIssued()) {
      counts.credentialsChecked++;
      const grant = await deps.store.get(issued.grantId);
      if (accountsFor(grant) || grant?.state === 'revoked') continue;
      const account = issued.account ? { account: issued.account } : {};
      const target = {
        grantId: issued.grantId,
        agentId: grant?.agentId ?? 'unknown',
        taskId: grant?.taskId ?? 'unknown',
        kind,
        ...account,
        ...(issued.credentialId ? { accessKeyId: issued.credentialId } : {}),
      };
      const where = issued.account ? ` in account ${issued.account}` : '';
      await orphan(issued.grantId, `a working ${kind} credential${where}`, () => issuer.revoke(target), grant, account);
    }
  }
  return counts;
}
