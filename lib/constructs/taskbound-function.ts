// CDK construct: the one NodejsFunction shape every engine Lambda shares (arm64, current
// Node.js, ESM bundle with the policy compiled in, X-Ray, its own log group and role).
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { cdkBundlingOptions, PROJECT_ROOT, type EngineHandler } from '../bundling';

export interface TaskboundFunctionProps {
  readonly handlerName: EngineHandler;
  /** The handler's entry file. */
  readonly entry: string;
  /** Ready-made code instead of bundling `entry` (infrastructure tests, which only read the template). */
  readonly code?: lambda.Code;
  readonly policyYaml: string;
  readonly rolePath: string;
  /** The role's fixed name (lib/naming.ts): the bus, the delivery secrets and agent roles trust it by exact ARN. */
  readonly roleName: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Where failed asynchronous invocations land, after Lambda's own retries. */
  readonly deadLetterQueue?: sqs.IQueue;
  readonly reservedConcurrentExecutions?: number;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  /** An explicit name, for a function other resources must reference by ARN without a cycle. */
  readonly functionName?: string;
}

/** An engine Lambda with the project's defaults; its role starts empty (least privilege is added per function). */
export class TaskboundFunction extends NodejsFunction {
  readonly engineRole: iam.Role;

  constructor(scope: Construct, id: string, props: TaskboundFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      path: props.rolePath,
      roleName: props.roleName,
      description: `Taskbound ${props.handlerName} function`,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs:* on every group): only this function's log group.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { ...props.environment },
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}/package-lock.json`,
      bundling: cdkBundlingOptions(props.policyYaml),
      ...(props.code ? { code: props.code } : {}),
      ...(props.functionName ? { functionName: props.functionName } : {}),
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue, retryAttempts: 2, maxEventAge: Duration.hours(6) } : {}),
      ...(props.reservedConcurrentExecutions ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      description: `Taskbound ${props.handlerName}`,
    });
    this.engineRole = role;
  }
}
