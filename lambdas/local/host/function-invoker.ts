// Local engine, host: how a bus rule, a timer or a due-index reader invokes a handler, as Lambda
// invokes a function asynchronously: through the function's reserved concurrency (queued in
// arrival order when its slots are busy), then with a fresh Lambda context, revoking handlers in
// the revocation lane.
import { inRevocationLane } from '../../adapters/aws/quota-throttle';
import { REVOKING, type HandlerName } from '../../routes';
import type { EventEnvelope } from '../emulated-aws/event-bus';
import { localLambdaContext, type LocalHandler } from './lambda-context';
import type { ReservedConcurrency } from './reserved-concurrency';

/** What a handler is invoked with: an EventBridge envelope, a schedule's payload, or a due-index shard. */
type LocalInvocationEvent = EventEnvelope | { readonly grantId: string } | { readonly dueShard: number };

type LocalInvoke = (name: HandlerName, event: LocalInvocationEvent) => Promise<void>;

/** Runs work in the revocation lane (quota-throttle.ts); the engine passes a plain call when nothing paces its calls. */
export type InLane = <T>(work: () => Promise<T>) => Promise<T>;

/** Handlers that revoke: the routes table's list (the same one the CDK stack reserves concurrency for). */
const REVOKING_HANDLERS: ReadonlySet<string> = new Set(REVOKING);

/** Invokes handlers by name, each within its function's reserved concurrency. */
export function localInvoker(
  handlers: Readonly<Record<HandlerName, LocalHandler>>,
  concurrency: ReservedConcurrency,
  inLane: InLane = inRevocationLane,
): LocalInvoke {
  return (name, event) =>
    concurrency.run(name, async () => {
      // The context is made once the invocation has a slot: Lambda's timeout starts when it runs, not when it queues.
      const run = () => handlers[name](event, localLambdaContext(name), { signal: new AbortController().signal });
      // On AWS the revoking functions have reserved concurrency of their own; locally they also
      // share one process's SDK clients, so their calls jump every queue issuance waits in (quota-throttle.ts).
      if (REVOKING_HANDLERS.has(name)) await inLane(run);
      else await run();
    });
}
