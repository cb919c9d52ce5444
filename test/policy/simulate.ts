// Policy tier helper: one IAM decision from @cloud-copilot/iam-simulate, the independent
// oracle. A simulation the evaluator cannot run (an unknown action, a malformed policy, a
// context key of the wrong type) throws instead of reading as "denied".
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT } from './cfn';

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
type Document = Record<string, unknown>;

export interface Request {
  /** The caller: a role session `arn:aws:sts::…:assumed-role/R/S`, a user or a role ARN. */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
  /** The account that owns the resource (default: the engine's). */
  readonly resourceAccount?: string;
}

export interface Policies {
  readonly identity?: readonly Document[];
  readonly boundary?: readonly Document[];
  readonly session?: Document;
  readonly resource?: Document;
}

/** The caller's own ARN as `aws:PrincipalArn` sees it: a session's role, never the sts ARN. */
export function principalArnOf(principal: string): string {
  const session = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(principal);
  return session ? `arn:aws:iam::${session[1]}:role/${session[2]}` : principal;
}

/** Runs the evaluator on one request; `roleArnForSession` gives a path-bearing role its full ARN. */
export async function decide(request: Request, policies: Policies, roleArnForSession?: string): Promise<Decision> {
  const principalAccount = /:(\d{12}):/.exec(request.principal)?.[1] ?? ACCOUNT;
  const simulation: Simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount ?? ACCOUNT },
      contextVariables: {
        'aws:PrincipalArn': roleArnForSession ?? principalArnOf(request.principal),
        'aws:PrincipalAccount': principalAccount,
        ...request.context,
      },
    },
    identityPolicies: (policies.identity ?? []).map((policy, index) => ({ name: `identity-${index}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(policies.boundary
      ? { permissionBoundaryPolicies: policies.boundary.map((policy, index) => ({ name: `boundary-${index}`, policy })) }
      : {}),
    ...(policies.session ? { sessionPolicy: policies.session } : {}),
    ...(policies.resource ? { resourcePolicy: policies.resource } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`the evaluator refused the simulation: ${JSON.stringify(result.errors)}`);
  // A context key the evaluator dropped would make a condition on it fail silently: a test
  // would pass for the wrong reason, so that is an error too.
  const ignored =
    result.resultType === 'single' ? result.result.ignoredContextKeys : result.results.flatMap((one) => one.ignoredContextKeys ?? []);
  if (ignored && ignored.length > 0) throw new Error(`the evaluator ignored context keys ${ignored.join(', ')} for ${request.action}`);
  return result.overallResult;
}

/** Allow-everything identity policy: a worst case that leaves the narrowing to the policies under test. */
export const ALLOW_EVERYTHING: Document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
