// Local engine, host: the Lambda handlers, built over the local engine's dependencies instead
// of the AWS composition root. The handler code is the one deployed to Lambda.
import type { HandlerName } from '../../routes';
import type { EngineDeps } from '../../use-cases/engine-deps';
import { makeTaskStartedHandler } from '../../handlers/task-started';
import { makeTaskEndedHandler } from '../../handlers/task-ended';
import { makeGrantDecisionHandler } from '../../handlers/grant-decision';
import { makeCredentialLeakedHandler } from '../../handlers/credential-leaked';
import { makeAgentStatusHandler } from '../../handlers/agent-status';
import { makeRevokeRequestedHandler } from '../../handlers/revoke-requested';
import { makeProveRevocationHandler } from '../../handlers/prove-revocation';
import { makeExpireGrantHandler } from '../../handlers/expire-grant';
import { makeSweepHandler } from '../../handlers/sweep';
import { makeAlertsHandler } from '../../handlers/alerts';
import type { AlertDeps } from '../../use-cases/send-alert';
import type { LocalHandler } from './lambda-context';

export type { LocalHandler } from './lambda-context';

export function buildLocalHandlers(deps: EngineDeps, alerts: AlertDeps): Readonly<Record<HandlerName, LocalHandler>> {
  const getDeps = () => Promise.resolve(deps);
  return {
    'task-started': makeTaskStartedHandler(getDeps),
    'task-ended': makeTaskEndedHandler(getDeps),
    'grant-decision': makeGrantDecisionHandler(getDeps),
    'credential-leaked': makeCredentialLeakedHandler(getDeps),
    'agent-status': makeAgentStatusHandler(getDeps),
    'revoke-requested': makeRevokeRequestedHandler(getDeps),
    'prove-revocation': makeProveRevocationHandler(getDeps),
    'expire-grant': makeExpireGrantHandler(getDeps),
    sweep: makeSweepHandler(getDeps),
    alerts: makeAlertsHandler(() => Promise.resolve(alerts)),
  };
}
