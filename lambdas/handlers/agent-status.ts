// Handler: `Agent Suspended` / `Agent Resumed` → the kill switch.
import { agentStatusSchema, INBOUND } from '../domain/events';
import { resumeAgent, suspendAgent } from '../use-cases/change-agent-status';
import { awsEngine } from '../composition/aws-engine';
import { eventHandler, type DepsProvider } from '../composition/event-handler';
import { isTrustedDecisionSource, refuseUntrustedSource } from './trusted-sources';

export const makeAgentStatusHandler = (getDeps: DepsProvider) =>
  eventHandler('agent-status', agentStatusSchema, getDeps, async (deps, event) => {
    if (event['detail-type'] === INBOUND.agentResumed) {
      if (!isTrustedDecisionSource(event.source)) return refuseUntrustedSource(deps, event, event.detail.by);
      return resumeAgent(deps, event.detail);
    }
    const result = await suspendAgent(deps, event.detail);
    return { outcome: result.outcome, reason: result.outcome === 'unknown-agent' ? result.reason : `${result.revoked.length} live grant(s) revoked` };
  });

export const handler = makeAgentStatusHandler(awsEngine);
