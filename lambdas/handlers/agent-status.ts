// Handler: `Agent Suspended` / `Agent Resumed` → the kill switch.
import { agentStatusSchema, INBOUND } from '../domain/events';
import { resumeAgent, suspendAgent } from '../use-cases/change-agent-status';
import { awsEngine } from './aws-engine';
import { eventHandler, type DepsProvider } from './event-handler';

export const makeAgentStatusHandler = (getDeps: DepsProvider) =>
  eventHandler('agent-status', agentStatusSchema, getDeps, async (deps, event) => {
    if (event['detail-type'] === INBOUND.agentResumed) return resumeAgent(deps, event.detail);
    const result = await suspendAgent(deps, event.detail);
    return { outcome: result.outcome, reason: `${result.revoked.length} live grant(s) revoked` };
  });

export const handler = makeAgentStatusHandler(awsEngine);
