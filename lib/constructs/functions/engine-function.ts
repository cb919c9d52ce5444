// CDK constructs: what every engine function's construct is built from: the stack's wiring (its
// resources, configuration and dead-letter queues) and the shared TaskboundFunction defaults.
import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Policy } from '../../../lambdas/domain/policy';
import { ENGINE_HANDLERS, handlerEntry, type EngineHandler } from '../../bundling';
import { reservedConcurrencyOf, type TaskboundConfig } from '../../config';
import { engineRoleName, engineRolePath, pascal } from '../../naming';
import type { EngineState } from '../../stacks/stateful-stack';
import type { CapabilityProps } from '../capabilities';
import type { PermissionContext } from '../engine-permissions';
import type { TaskboundFunctionProps } from '../taskbound-function';

/** Entry points invoked synchronously, behind a function URL: the caller sees the error, no queue keeps it. */
const SYNCHRONOUS = ['slack-interactions', 'operator-api'] as const satisfies readonly EngineHandler[];
export type AsyncHandler = Exclude<EngineHandler, (typeof SYNCHRONOUS)[number]>;
/** Every other entry point is invoked asynchronously (rules, schedules, streams) and owns a dead-letter queue. */
export const ASYNC_HANDLERS = ENGINE_HANDLERS.filter(
  (handler): handler is AsyncHandler => !(SYNCHRONOUS as readonly string[]).includes(handler),
);

/** Where expiry schedules go: the generated group, the role Scheduler assumes, the function it invokes. */
export interface ExpiryWiring {
  readonly groupName: string;
  readonly roleArn: string;
  readonly expireFunctionArn: string;
  readonly deadLetterQueueArn: string;
}

/** Everything a function's construct may read; each takes only what its handler uses. */
export interface EngineWiring {
  readonly config: TaskboundConfig;
  readonly policy: Policy;
  /** The policy file's text, compiled into every bundle. */
  readonly policyYaml: string;
  readonly state: EngineState;
  readonly expiry: ExpiryWiring;
  readonly deadLetterQueues: Readonly<Record<AsyncHandler, sqs.IQueue>>;
  readonly removalPolicy: RemovalPolicy;
  readonly permissions: PermissionContext;
  /** Code to deploy instead of bundling each handler (infrastructure tests read only the template). */
  readonly codeFor?: ((handler: EngineHandler) => lambda.Code) | undefined;
}

/** The construct id of a handler's function: `task-started` → `TaskStarted` (its role and logs are `TaskStartedRole`, `TaskStartedLogs`). */
export const functionId = (handler: EngineHandler) => pascal(handler);

/** The shared props of `handler`'s function; `own` is what differs per function (environment, timeout, ...). */
export function engineFunctionProps(
  wiring: EngineWiring,
  handler: EngineHandler,
  own: Pick<TaskboundFunctionProps, 'environment'> & Partial<Pick<TaskboundFunctionProps, 'timeout' | 'memorySize' | 'functionName'>>,
): TaskboundFunctionProps {
  const { config } = wiring;
  const reserved = reservedConcurrencyOf(config).perFunction[handler];
  const deadLetterQueue = (ASYNC_HANDLERS as readonly EngineHandler[]).includes(handler)
    ? wiring.deadLetterQueues[handler as AsyncHandler]
    : undefined;
  return {
    handlerName: handler,
    entry: handlerEntry(handler),
    ...(wiring.codeFor ? { code: wiring.codeFor(handler) } : {}),
    policyYaml: wiring.policyYaml,
    rolePath: engineRolePath(config),
    roleName: engineRoleName(config, handler),
    logRetention: config.logRetentionDays,
    removalPolicy: wiring.removalPolicy,
    ...(deadLetterQueue ? { deadLetterQueue } : {}),
    ...(reserved ? { reservedConcurrentExecutions: reserved } : {}),
    ...own,
  };
}

/** The capability props for a function's own role. */
export const grantsTo = (role: CapabilityProps['grantee'], wiring: EngineWiring): CapabilityProps => ({
  grantee: role,
  context: wiring.permissions,
});
