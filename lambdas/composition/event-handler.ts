// Composition: the one shape every EventBridge-triggered handler shares. Parse the envelope and
// detail with zod (Powertools Parser), reject what fails with a recorded reason, run the
// use case, log the outcome. Secrets never reach a log line: only ids and outcomes are logged.
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from './lambda-event-schemas';
import type { z } from 'zod';
import type { Context } from 'aws-lambda';
import type { EngineDeps, RefusalDeps } from '../use-cases/engine-deps';
import { rejectEvent, type RawEvent } from '../use-cases/reject-event';
import { handlerChain } from './handler-chain';
import { logger } from './logger';
import { recordRevocationLatency } from './metrics';
import type { Grant } from '../domain/grant';

/** Builds (once) what a handler's use case needs: the engine's whole dependencies unless the handler asks for less. */
export type DepsProvider<D extends RefusalDeps = EngineDeps> = () => Promise<D>;

export interface EventEnvelope<T> {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly time: Date;
  readonly detail: T;
}

export interface Outcome {
  readonly outcome: string;
  readonly grant?: Grant | undefined;
  readonly reason?: string;
}

/** What a handler returns: identifiers and outcome only (the grant itself stays inside). */
export interface HandlerResult {
  readonly outcome: string;
  readonly grant?: { readonly grantId: string; readonly state: string };
  readonly reason?: string;
}

type IssuePath = ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>;
type Issue = {
  readonly message: string;
  readonly path?: IssuePath;
  /** zod's `invalid_union`: each alternative's own issues. */
  readonly errors?: readonly (readonly Issue[])[];
};

/** Readable reasons from schema issues: paths and messages only, never the offending values. */
export function describeIssues(error: unknown): string {
  // Powertools Parser puts the Standard Schema issues in the ParseError's cause.
  const cause = (error as { cause?: unknown })?.cause ?? error;
  const issues = (Array.isArray(cause) ? cause : (cause as { issues?: unknown })?.issues) as Issue[] | undefined;
  if (!issues?.length) return 'malformed event';
  return issues
    .flatMap((issue) => closestAlternative(issue))
    .slice(0, 5)
    .map((issue) => {
      const path = (issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part)).join('.');
      return `${path || '(event)'}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * A detail matching none of a union's shapes (a leak report or an AWS Health exposure) is told what is
 * wrong with the shape it came closest to (the fewest issues), not only "Invalid input", so the reason names the field.
 */
function closestAlternative(issue: Issue): readonly Issue[] {
  const closest = [...(issue.errors ?? [])].sort((a, b) => a.length - b.length)[0];
  if (!closest?.length) return [issue];
  return closest.map((inner) => ({ ...inner, path: [...(issue.path ?? []), ...(inner.path ?? [])] }));
}

export function eventHandler<S extends z.ZodType, D extends RefusalDeps = EngineDeps>(
  name: string,
  detailSchema: S,
  getDeps: DepsProvider<D>,
  run: (deps: D, event: EventEnvelope<z.infer<S>>) => Promise<Outcome>,
  /** What an event that fails validation gets: recorded and answered on the bus (`rejectEvent`) unless the handler says more. */
  refuse: (deps: D, raw: RawEvent, reason: string) => Promise<Outcome> = rejectEvent,
) {
  const schema = EventBridgeSchema.extend({ detail: detailSchema });
  return handlerChain()
    .use(parser({ schema, safeParse: true }))
    .handler(
      async (
        parsed: { success: boolean; data?: unknown; error?: unknown; originalEvent?: unknown },
        _context: Context,
      ): Promise<HandlerResult> => {
        const deps = await getDeps();
        if (!parsed.success) {
          const reason = describeIssues(parsed.error);
          logger.warn('event rejected', { handler: name, reason });
          const refused = await refuse(deps, (parsed.originalEvent ?? {}) as RawEvent, reason);
          // A refusal may still act on a grant (an invalid Task Ended still ends its task): say which.
          recordRevocationLatency(refused.grant);
          return {
            outcome: refused.outcome,
            ...(refused.grant ? { grant: { grantId: refused.grant.grantId, state: refused.grant.state } } : {}),
            ...(refused.reason ? { reason: refused.reason } : {}),
          };
        }
        const event = parsed.data as EventEnvelope<z.infer<S>>;
        const result = await run(deps, event);
        recordRevocationLatency(result.grant);
        logger.info('event handled', {
          handler: name,
          eventId: event.id,
          detailType: event['detail-type'],
          outcome: result.outcome,
          ...(result.grant ? { grantId: result.grant.grantId, state: result.grant.state } : {}),
          ...(result.reason ? { reason: result.reason } : {}),
        });
        return {
          outcome: result.outcome,
          ...(result.grant ? { grant: { grantId: result.grant.grantId, state: result.grant.state } } : {}),
          ...(result.reason ? { reason: result.reason } : {}),
        };
      },
    );
}
