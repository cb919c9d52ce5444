// Use case: one request to the operator endpoint (a Lambda function URL with AWS_IAM auth, or the
// local engine's SigV4-verified route). The caller arrives already authenticated and mapped to a
// person; the body names one action. Every refusal says why and is recorded; nothing is issued
// for a caller who is no one, and one caller is always exactly one person.
import { resumeRefusal } from '../domain/approval';
import { operatorRequestSchema, type OperatorAnswer, type OperatorRequest } from '../domain/operator-api';
import type { Identification } from '../domain/people';
import { latestNoticeOf } from '../domain/report';
import { resumeAgent } from './change-agent-status';
import { decideGrant } from './decide-grant';
import { agentEvent } from './outbound';
import type { EngineDeps } from './engine-deps';
import { refuseUnknownGrant } from './refuse-unknown-grant';

/** An authenticated caller: who they are (or why they are no one) and how they were seen, for the record. */
export interface OperatorCaller {
  readonly identification: Identification;
  /** The principal ARN or local access key id the request was signed with. */
  readonly principal: string;
  /** When the request was signed (its `X-Amz-Date`, to the second), when known: a resume lifts no suspension made after it. */
  readonly signedAt?: Date;
}

/** X-Amz-Date has whole seconds: a request signed in the second a suspension was made may still lift it. */
const SIGNED_AT_RESOLUTION_MS = 1000;

/** The detail-type and source refusals are recorded under (REJECTED#<day> items). */
export const OPERATOR_REQUEST = 'Operator Request';
export const OPERATOR_SOURCE = 'operator-endpoint';
const MAX_BODY_CHARS = 8192;

export async function handleOperatorRequest(deps: EngineDeps, caller: OperatorCaller, rawBody: string): Promise<OperatorAnswer> {
  if (!caller.identification.ok) return refuse(deps, caller, rawBody, 403, caller.identification.reason);
  const person = caller.identification.person;
  const parsed = parseBody(rawBody);
  if (!parsed.ok) return refuse(deps, caller, rawBody, 400, parsed.reason, person);
  const request = parsed.request;
  if (request.action === 'resume') return resume(deps, caller, person, request);

  const result = await decideGrant(deps, { grantId: request.grantId, decision: request.action, approver: person, reason: request.reason });
  const answer = { grantId: request.grantId, person };
  switch (result.outcome) {
    case 'not-found': {
      const refused = await refuseUnknownGrant(deps, {
        detailType: 'Grant Decision',
        source: OPERATOR_SOURCE,
        grantId: request.grantId,
        by: person,
      });
      return { status: 404, body: { outcome: 'not-found', reason: refused.reason, ...answer } };
    }
    case 'refused':
      return { status: 403, body: { outcome: 'refused', reason: result.reason, ...answer } };
    case 'counted':
      return { status: 200, body: { outcome: 'counted', remaining: result.remaining, ...answer } };
    case 'issued':
      return { status: 200, body: { outcome: 'issued', ...answer } };
    case 'denied':
      return { status: 200, body: { outcome: 'denied', ...(result.grant.reason ? { reason: result.grant.reason } : {}), ...answer } };
    case 'failed':
    case 'revoked-during-issue':
      return {
        status: 502,
        body: { outcome: 'failed', reason: result.grant.reason ?? `approved, but the grant ended ${result.grant.state}`, ...answer },
      };
  }
}

async function resume(
  deps: EngineDeps,
  caller: OperatorCaller,
  person: string,
  request: Extract<OperatorRequest, { action: 'resume' }>,
): Promise<OperatorAnswer> {
  const { agentId: agent } = request;
  const standing = await deps.store.getAgent(agent);
  if (!Object.hasOwn(deps.policy.agents, agent) && !standing.suspended) {
    const reason = `agent "${agent}" is not registered in the policy and is not suspended`;
    await record(deps, caller, JSON.stringify(request), reason);
    return { status: 404, body: { outcome: 'not-found', reason, agentId: agent, person } };
  }
  const ownerRefusal = resumeRefusal(person, agent, deps.policy.agents[agent]?.owner, deps.policy.people);
  if (ownerRefusal) {
    await record(deps, caller, JSON.stringify(request), ownerRefusal);
    const at = deps.clock.now().toISOString();
    await deps.events.publish([agentEvent('Agent Resume Refused', agent, at, { reason: ownerRefusal, claimedBy: person })]);
    return { status: 403, body: { outcome: 'refused', reason: ownerRefusal, agentId: agent, person } };
  }
  if (!standing.suspended)
    return {
      status: 200,
      body: { outcome: 'resumed', reason: `agent "${agent}" was not suspended; nothing changed`, agentId: agent, person },
    };
  const notice = latestNoticeOf(standing);
  if (caller.signedAt && notice && caller.signedAt.getTime() + SIGNED_AT_RESOLUTION_MS <= Date.parse(notice)) {
    // A resume signed for an earlier suspension (a captured request sent again) never lifts a newer one, nor one thrown again since.
    const suspended = notice === standing.at ? 'suspended' : 'suspended again';
    const reason = `this request was signed at ${caller.signedAt.toISOString()}, before agent "${agent}" was ${suspended} at ${notice}: a resume lifts no suspension made after it was signed; sign a new request`;
    await record(deps, caller, JSON.stringify(request), reason);
    return { status: 403, body: { outcome: 'refused', reason, agentId: agent, person } };
  }
  const resumed = await resumeAgent(deps, { agentId: agent, by: person, reason: request.reason }, standing);
  if (resumed.outcome === 'superseded') {
    const reason = `agent "${agent}" was suspended again (or its standing changed) after ${notice ?? 'the suspension this resume read'}; that suspension stands: resume again to lift it`;
    await record(deps, caller, JSON.stringify(request), reason);
    return { status: 409, body: { outcome: 'refused', reason, agentId: agent, person } };
  }
  const waited =
    resumed.waitedMs > 0
      ? { reason: `resumed after waiting ${(resumed.waitedMs / 1000).toFixed(1)} s: until then its kill switch still refused new sessions` }
      : {};
  return { status: 200, body: { outcome: 'resumed', ...waited, agentId: agent, person } };
}

type ParsedBody = { readonly ok: true; readonly request: OperatorRequest } | { readonly ok: false; readonly reason: string };

function parseBody(rawBody: string): ParsedBody {
  if (rawBody.length > MAX_BODY_CHARS) return { ok: false, reason: `request body is over ${MAX_BODY_CHARS} characters` };
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false, reason: 'request body is not JSON' };
  }
  const parsed = operatorRequestSchema.safeParse(json);
  if (parsed.success) return { ok: true, request: parsed.data };
  // Paths and messages only, never the offending values.
  const issues = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`);
  return { ok: false, reason: `invalid request: ${issues.join('; ')}` };
}

async function refuse(
  deps: EngineDeps,
  caller: OperatorCaller,
  rawBody: string,
  status: number,
  reason: string,
  person?: string,
): Promise<OperatorAnswer> {
  await record(deps, caller, rawBody, reason);
  return { status, body: { outcome: 'refused', reason, ...(person ? { person } : {}) } };
}

function record(deps: EngineDeps, caller: OperatorCaller, rawBody: string, reason: string): Promise<void> {
  return deps.store.recordRejectedEvent({
    at: deps.clock.now().toISOString(),
    detailType: OPERATOR_REQUEST,
    source: OPERATOR_SOURCE,
    reason,
    excerpt: JSON.stringify({ principal: caller.principal.slice(0, 256), body: rawBody.slice(0, 512) }),
  });
}
