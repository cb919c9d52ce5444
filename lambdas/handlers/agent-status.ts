// Handler: `Agent Suspended` / `Agent Resumed` on the bus. Anyone may pull the kill switch;
// lifting it loosens control, so a bus `Agent Resumed` is refused (`Agent Resume Refused`):
// resumes count only through the operator endpoint, which authenticates the person.
import * as z from 'zod';
import { agentStatusSchema, INBOUND } from '../domain/events';
import { suspendAgent } from '../use-cases/change-agent-status';
import { refuseBusDecision } from '../use-cases/refuse-bus-decision';
import { rejectEvent } from '../use-cases/reject-event';
import { awsRevokingEngine } from '../composition/aws-engine';
import { describeIssues, eventHandler, type DepsProvider } from '../composition/event-handler';
import { inRevocationLaneEach } from '../composition/revocation-lane';

export const makeAgentStatusHandler = (getDeps: DepsProvider) =>
  eventHandler('agent-status', z.unknown(), getDeps, async (deps, event) => {
    if (event['detail-type'] === INBOUND.agentResumed) return refuseBusDecision(deps, event);
    const parsed = agentStatusSchema.safeParse(event.detail);
    if (!parsed.success) return rejectEvent(deps, event, describeIssues(parsed.error));
    const result = await suspendAgent(deps, parsed.data);
    return {
      outcome: result.outcome,
      reason: result.outcome === 'unknown-agent' ? result.reason : `${result.revoked.length} live grant(s) revoked`,
    };
  });

export const handler = inRevocationLaneEach(makeAgentStatusHandler(awsRevokingEngine));
