// Test helpers (handlers): every EventBridge handler built over a fake engine, and an envelope builder.
import type { EngineDeps } from '../../../lambdas/use-cases/engine-deps';
import { buildLocalHandlers, type LocalHandler } from '../../../lambdas/local/host/local-handlers';
import { localLambdaContext } from '../../../lambdas/local/host/lambda-context';
import type { HandlerName } from '../../../lambdas/routes';
import { DEFAULT_ROUTING } from '../../../lambdas/domain/alert-routing';
import { ConsoleNotifier } from '../../../lambdas/adapters/slack/console-notifier';
import { inMemoryApprovalMessages } from '../../../lambdas/adapters/slack/in-memory-approval-messages';
import { SlackNotifier } from '../../../lambdas/adapters/slack/slack-notifier';

export function handlersOver(deps: EngineDeps, print: (line: string) => void = () => undefined) {
  return buildLocalHandlers(deps, {
    notifier: new SlackNotifier(new ConsoleNotifier(print)),
    routing: DEFAULT_ROUTING,
    approvals: inMemoryApprovalMessages(),
  });
}

export function invoke(handlers: Readonly<Record<HandlerName, LocalHandler>>, name: HandlerName, event: unknown) {
  return handlers[name](event, localLambdaContext(name), { signal: new AbortController().signal }) as Promise<{
    outcome: string;
    reason?: string;
  }>;
}

let sequence = 0;
export function envelope(detailType: string, detail: unknown, source = 'test.runtime') {
  return {
    version: '0',
    id: `00000000-0000-4000-8000-${String(++sequence).padStart(12, '0')}`,
    'detail-type': detailType,
    source,
    account: '000000000000',
    time: '2026-11-28T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
  };
}
