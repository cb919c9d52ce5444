// CLI commands: `audit verify` recomputes every grant's hash-linked audit chain and names the
// grant and the link of any break; `audit export` writes the trail as JSON lines for a SIEM,
// as recorded or mapped to OCSF classes (cli/ocsf.ts).
import { readFile } from 'node:fs/promises';
import { verifyChain } from '../../lambdas/domain/audit';
import { verifyGrantAudit, type Grant } from '../../lambdas/domain/grant';
import type { AgentRecord } from '../../lambdas/ports';
import { callerPath } from '../caller-path';
import { EXIT, UsageError, type CliDeps, type ExitCode } from '../context';
import { differencesFromExport, parseExportedLinks, type ExportedLink } from '../exported-links';
import { agentRecordToOcsf, auditRecordToOcsf, type AuditRecord } from '../ocsf';
import { bad, good, json } from '../output';
import { storedGrants } from '../stored-grants';
import { parsePeriod } from './report';

export interface VerifyOptions {
  readonly json?: boolean;
  /** An earlier `audit export` to compare the store with. */
  readonly against?: string;
}

export interface BrokenLink {
  readonly grantId: string;
  readonly agentId: string;
  readonly taskId: string;
  /** The index (seq) of the first link that does not verify. */
  readonly link: number;
  readonly why: string;
}

async function exportedLinks(file: string): Promise<ExportedLink[]> {
  let text: string;
  try {
    text = await readFile(callerPath(file), 'utf8');
  } catch (error) {
    throw new UsageError(`--against ${file}: cannot read the export (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  return parseExportedLinks(text, file);
}

/** Why a chain broken at its first entry fails: often it verifies as another grant's chain, swapped or copied. */
function whyBroken(grant: Grant, verdict: { readonly brokenAt: number; readonly why: string }, grants: readonly Grant[]): string {
  if (verdict.brokenAt !== 0 || grant.audit.length === 0) return verdict.why;
  const owner = grants.find((other) => other.grantId !== grant.grantId && verifyChain(other.grantId, grant.audit).ok);
  return owner
    ? `${verdict.why}: the chain is grant ${owner.grantId}'s (${owner.agentId}/${owner.taskId}), swapped or copied here`
    : verdict.why;
}

/** Verifies all chains (and, with `against`, that the store still holds every exported link); exit 1 naming each broken grant and the link. */
export async function verifyAudit(deps: CliDeps, options: VerifyOptions = {}): Promise<ExitCode> {
  const exported = options.against === undefined ? undefined : await exportedLinks(options.against);
  const progress = deps.progress('reading every grant');
  const grants = await storedGrants(deps.store);
  progress.update(`verifying ${grants.length} audit chains`);
  const broken: BrokenLink[] = [];
  let links = 0;
  for (const grant of grants) {
    links += grant.audit.length;
    const verdict = verifyGrantAudit(grant);
    if (!verdict.ok)
      broken.push({
        grantId: grant.grantId,
        agentId: grant.agentId,
        taskId: grant.taskId,
        link: verdict.brokenAt,
        why: whyBroken(grant, verdict, grants),
      });
  }
  // A chain that verifies on its own may still have been rewritten, cut or deleted: the export kept outside says.
  const brokenIds = new Set(broken.map((link) => link.grantId));
  if (exported) broken.push(...differencesFromExport(grants, exported).filter((difference) => !brokenIds.has(difference.grantId)));
  // A grant the export holds and the store does not counts among the chains checked.
  const stored = new Set(grants.map((grant) => grant.grantId));
  const chains = grants.length + broken.filter((link) => !stored.has(link.grantId)).length;
  if (broken.length > 0) progress.fail(`${broken.length} of ${chains} audit chains do not verify`);
  else progress.succeed(`${grants.length} audit chains verified`);
  if (options.json) {
    deps.out(
      json({
        ok: broken.length === 0,
        grants: grants.length,
        links,
        ...(exported && options.against ? { against: { file: options.against, links: exported.length } } : {}),
        broken,
      }),
    );
    return broken.length > 0 ? EXIT.failure : EXIT.ok;
  }
  for (const link of broken) deps.out(bad(`BROKEN ${link.grantId} (${link.agentId}/${link.taskId}) at link ${link.link}: ${link.why}`));
  if (broken.length > 0) {
    deps.out(`${broken.length} of ${chains} audit chains do not verify; \`taskbound grants show ID\` shows a chain entry by entry`);
    return EXIT.failure;
  }
  deps.out(good(grants.length === 1 ? `1 audit chain verifies (${links} links)` : `${grants.length} audit chains verify (${links} links)`));
  if (exported) deps.out(good(`the store holds all ${exported.length} links of ${options.against ?? ''} as exported`));
  return EXIT.ok;
}

export interface ExportOptions {
  readonly since: string;
  readonly format?: string;
  readonly json?: boolean;
}

const FORMATS = ['json', 'ocsf'] as const;

function checkedFormat(format: string | undefined): (typeof FORMATS)[number] {
  if (format === undefined) return 'json';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: "${format}" is not one of ${FORMATS.join(', ')}`);
  return format as (typeof FORMATS)[number];
}

/** Every audit entry of every grant, from `since`, oldest first. */
function auditRecords(grants: readonly Grant[], since: string): AuditRecord[] {
  const records = grants.flatMap((grant) =>
    grant.audit
      .filter((entry) => entry.at >= since)
      .map((entry) => ({ ...entry, grantId: grant.grantId, agentId: grant.agentId, taskId: grant.taskId, scopes: grant.scopes })),
  );
  return records.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq));
}

/** The kill-switch state of every agent the policy or the store names, changed since `since`. */
async function agentChanges(deps: CliDeps, grants: readonly Grant[], since: string): Promise<(AgentRecord & { at: string })[]> {
  const policy = await deps.policy().catch((error: unknown) => {
    deps.err(
      `taskbound: agents' suspensions come from the agents the store knows only (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
    );
    return undefined;
  });
  const agentIds = [...new Set([...Object.keys(policy?.agents ?? {}), ...grants.map((grant) => grant.agentId)])];
  const records = await Promise.all(agentIds.map((agentId) => deps.store.getAgent(agentId)));
  // A suspension made before the period but thrown again within it is a change within it.
  return records.filter(
    (record): record is AgentRecord & { at: string } =>
      record.at !== undefined && (record.at >= since || (record.lastRepeatedAt !== undefined && record.lastRepeatedAt >= since)),
  );
}

/** Writes one JSON line per audit entry (and per agent suspension or resumption) since the period's start. */
export async function exportAudit(deps: CliDeps, options: ExportOptions): Promise<ExitCode> {
  const format = checkedFormat(options.format);
  const since = new Date(deps.clock.now().getTime() - parsePeriod(options.since)).toISOString();
  const progress = deps.progress('reading the audit trail');
  const grants = await storedGrants(deps.store);
  const records = auditRecords(grants, since);
  const agents = await agentChanges(deps, grants, since);
  for (const record of records)
    deps.out(JSON.stringify(format === 'ocsf' ? auditRecordToOcsf(record) : { kind: 'audit-entry', ...record }));
  for (const agent of agents) deps.out(JSON.stringify(format === 'ocsf' ? agentRecordToOcsf(agent) : { kind: 'agent-status', ...agent }));
  progress.succeed(`${records.length} audit entries and ${agents.length} agent status changes since ${since}`);
  // The export becomes the copy the store is later checked against: say when what it copies already fails.
  const broken = grants.filter((grant) => !verifyGrantAudit(grant).ok).length;
  if (broken > 0)
    deps.err(
      `taskbound: ${broken} of ${grants.length} audit chains do not verify (\`taskbound audit verify\` names them); their entries are exported as stored`,
    );
  return EXIT.ok;
}
