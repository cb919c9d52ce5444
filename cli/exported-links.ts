// CLI: the chain links of an earlier `audit export` (JSON lines, as recorded or OCSF), and how the
// store differs from them: the copy kept outside the table is what shows a chain rewritten, cut
// or deleted by someone who could write the table (the hashes use no secret).
import type { Grant } from '../lambdas/domain/grant';
import { UsageError } from './context';

export interface ExportedLink {
  readonly grantId: string;
  readonly agentId?: string;
  readonly taskId?: string;
  readonly seq: number;
  readonly hash: string;
}

interface LinkDifference {
  readonly grantId: string;
  readonly agentId: string;
  readonly taskId: string;
  readonly link: number;
  readonly why: string;
}

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
const field = (value: unknown, name: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;

/** One line of the export: an audit entry's link, `agent` for an agent's status line, else `undefined`. */
function linkOf(line: unknown): ExportedLink | 'agent' | undefined {
  if (typeof line !== 'object' || line === null) return undefined;
  const record = line as Record<string, unknown>;
  if (record.kind === 'agent-status' || record.class_uid === 3001) return 'agent';
  const grantId = str(record.grantId) ?? str(field(record.unmapped, 'grant_id'));
  const seq = record.seq ?? field(record.unmapped, 'seq');
  const hash = str(record.hash) ?? str(field(record.unmapped, 'hash'));
  if (grantId === undefined || typeof seq !== 'number' || hash === undefined) return undefined;
  // OCSF: the agent is the user of a User Access Management event, in the entity's data otherwise.
  const agentId = str(record.agentId) ?? str(field(record.user, 'uid')) ?? str(field(field(record.entity, 'data'), 'agent_id'));
  const taskId = str(record.taskId) ?? str(field(record.unmapped, 'task_id'));
  return { grantId, seq, hash, ...(agentId ? { agentId } : {}), ...(taskId ? { taskId } : {}) };
}

/** Every audit entry's link in an export's text; a line that is not one names its number (exit 2). */
export function parseExportedLinks(text: string, file: string): ExportedLink[] {
  const links: ExportedLink[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      throw new UsageError(`--against ${file}: line ${index + 1} is not JSON (an \`audit export\` is one JSON object a line)`);
    }
    const link = linkOf(line);
    if (link === undefined)
      throw new UsageError(`--against ${file}: line ${index + 1} is not an audit entry of \`audit export\` (no grant id, seq and hash)`);
    if (link !== 'agent') links.push(link);
  }
  return links;
}

/** Per grant, the first exported link the store no longer holds as exported. */
export function differencesFromExport(grants: readonly Grant[], links: readonly ExportedLink[]): LinkDifference[] {
  const byId = new Map(grants.map((grant) => [grant.grantId, grant]));
  const first = new Map<string, LinkDifference>();
  for (const link of [...links].sort((a, b) => a.seq - b.seq)) {
    if (first.has(link.grantId)) continue;
    const grant = byId.get(link.grantId);
    const named = { grantId: link.grantId, agentId: grant?.agentId ?? link.agentId ?? '?', taskId: grant?.taskId ?? link.taskId ?? '?' };
    const stored = grant?.audit[link.seq];
    const why = !grant
      ? `the grant is not in the store, though the export holds its link ${link.seq} (deleted, or expired by the table's retention)`
      : !stored
        ? `link ${link.seq} of the export is not in the store: the chain was cut after entry ${grant.audit.length - 1}`
        : stored.hash !== link.hash
          ? `link ${link.seq} differs from the export: the stored chain was rewritten from there`
          : undefined;
    if (why) first.set(link.grantId, { ...named, link: link.seq, why });
  }
  return [...first.values()];
}
