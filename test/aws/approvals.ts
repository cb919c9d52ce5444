// Test tier (AWS emulator): how a test approves, denies and resumes. Decisions and resumes count
// only when the engine authenticated the person, so tests invoke the operator endpoint's handler
// (handlers/operator-api.ts) with the function URL event Lambda builds for AuthType AWS_IAM,
// signed (as Lambda reports it) by an IAM principal the policy lists for that person.
import { randomUUID } from 'node:crypto';
import { ACCOUNT_ID, type MotoWorld } from './moto-world';

export interface Decision {
  readonly grantId: string;
  readonly decision: 'approve' | 'deny';
  /** The person (a key of the policy's `people`) whose IAM principal signs the request. */
  readonly approver: string;
  readonly reason: string;
}

/** The endpoint's JSON answer with its HTTP status. */
export interface OperatorReply {
  readonly status: number;
  readonly outcome: string;
  readonly reason?: string;
  readonly person?: string;
  readonly remaining?: number;
}

/** The caller ARN Lambda reports for a declared principal: a role is seen as one of its sessions. */
function callerArnOf(world: MotoWorld, person: string): string {
  const declared = world.engine.policy.people[person]?.awsPrincipals[0];
  if (!declared) throw new Error(`${person} has no AWS principal under people in the test policy`);
  const role = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(declared);
  return role ? `arn:aws:sts::${role[1]}:assumed-role/${role[2]}/moto-tier` : declared;
}

/** A function URL event as Lambda builds it for AuthType AWS_IAM. */
function urlEvent(callerArn: string, body: object) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'moto-tier',
      domainName: 'moto-tier.lambda-url.us-east-1.on.aws',
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'taskbound-cli' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      authorizer: {
        iam: {
          accessKey: 'ASIAMOTOTIER0000000',
          accountId: ACCOUNT_ID,
          callerId: 'AROAMOTOTIER:moto-tier',
          userArn: callerArn,
          userId: 'AROAMOTOTIER:moto-tier',
        },
      },
    },
  };
}

/** One request to the operator endpoint, signed as `person`. */
export async function operatorRequest(world: MotoWorld, person: string, body: object): Promise<OperatorReply> {
  const response = (await world.invoke('operator-api', urlEvent(callerArnOf(world, person), body))) as {
    statusCode?: number;
    body?: string;
  };
  return { status: response.statusCode ?? 0, ...(JSON.parse(response.body ?? '{}') as { outcome: string }) };
}

export function decide(world: MotoWorld, decision: Decision): Promise<OperatorReply> {
  return operatorRequest(world, decision.approver, { action: decision.decision, grantId: decision.grantId, reason: decision.reason });
}

export function resume(world: MotoWorld, agentId: string, person: string, reason: string): Promise<OperatorReply> {
  return operatorRequest(world, person, { action: 'resume', agentId, reason });
}
