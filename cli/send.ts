// CLI: every action is one event put on the bus; the engine does the work and records it.
import { EXIT, UsageError, type BusEvent, type CliDeps, type ExitCode } from './context';

/**
 * Puts one event and reports it (as `{sent, detailType, eventId, detail}` with `asJson`); a
 * rejected entry is a failure (exit 1) naming AWS's error code.
 */
export async function send(
  deps: Pick<CliDeps, 'events' | 'out' | 'err'>,
  event: BusEvent,
  summary: string,
  asJson = false,
): Promise<ExitCode> {
  const outcome = await deps.events.put([event]);
  if (!outcome.ok) {
    deps.err(
      `taskbound: ${event.detailType} was not accepted: ${outcome.errorCode}${outcome.errorMessage ? ` (${outcome.errorMessage})` : ''}`,
    );
    return EXIT.failure;
  }
  const eventId = outcome.eventIds[0] ?? 'accepted';
  deps.out(
    asJson
      ? JSON.stringify({ sent: true, detailType: event.detailType, eventId, detail: event.detail }, null, 2)
      : `${summary} (event ${eventId})`,
  );
  return EXIT.ok;
}

/** Puts one event; a rejected entry is printed (naming AWS's error code) and returns undefined. */
export async function dispatch(deps: Pick<CliDeps, 'events' | 'err'>, event: BusEvent): Promise<string | undefined> {
  const outcome = await deps.events.put([event]);
  if (outcome.ok) return outcome.eventIds[0] ?? 'accepted';
  deps.err(
    `taskbound: ${event.detailType} was not accepted: ${outcome.errorCode}${outcome.errorMessage ? ` (${outcome.errorMessage})` : ''}`,
  );
  deps.err('check the bus name (--bus) and that your credentials may put events on it (events:PutEvents)');
  return undefined;
}

/** `--as` when given, else the caller's own identity. */
export async function actor(deps: Pick<CliDeps, 'identity'>, as: string | undefined): Promise<string> {
  if (as === undefined) return deps.identity();
  if (as.trim() === '') throw new UsageError('--as: must name someone');
  return as;
}
