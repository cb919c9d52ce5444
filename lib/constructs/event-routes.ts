// CDK construct: one EventBridge rule per entry of ROUTES (lambdas/routes.ts), each aimed at
// its handler with a retry policy and the handler's dead-letter queue. The local engine's bus
// reads the same table, so local and AWS routing cannot drift apart.
import { Aws, Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ROUTES, type EventPattern, type HandlerName } from '../../lambdas/routes';
import { INBOUND } from '../../lambdas/domain/events';
import { ENGINE_SOURCE } from '../naming';

export interface EventRoutesProps {
  readonly bus: events.IEventBus;
  readonly functions: Readonly<Record<HandlerName, lambda.IFunction>>;
  readonly deadLetterQueues: Readonly<Record<HandlerName, sqs.IQueue>>;
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
}

/**
 * A route's pattern in CDK's shape. A route that trusts the engine's own source also requires
 * the engine's account: the bus admits producer accounts, and the bus policy alone should not
 * be the only thing between them and an event the engine would believe.
 */
export function toCdkPattern(pattern: EventPattern, engineAccount?: string): events.EventPattern {
  const trustsEngine = pattern.source?.includes(ENGINE_SOURCE) ?? false;
  return {
    ...(pattern.source ? { source: [...pattern.source] } : {}),
    ...(trustsEngine && engineAccount ? { account: [engineAccount] } : {}),
    ...(pattern['detail-type'] ? { detailType: [...pattern['detail-type']] } : {}),
    ...(pattern.detail ? { detail: Object.fromEntries(Object.entries(pattern.detail).map(([key, values]) => [key, [...values]])) } : {}),
  };
}

/** The bus rules, plus the forwarder that brings AWS Health's exposed-key events from the default bus. */
export class EventRoutes extends Construct {
  readonly rules: Readonly<Record<string, events.Rule>>;

  constructor(scope: Construct, id: string, props: EventRoutesProps) {
    super(scope, id);
    const rules: Record<string, events.Rule> = {};
    for (const route of ROUTES) {
      rules[route.name] = new events.Rule(this, `Route-${route.name}`, {
        eventBus: props.bus,
        description: `Taskbound route ${route.name} -> ${route.handler}`,
        eventPattern: toCdkPattern(route.pattern, Aws.ACCOUNT_ID),
        targets: [
          new targets.LambdaFunction(props.functions[route.handler], {
            deadLetterQueue: props.deadLetterQueues[route.handler],
            retryAttempts: props.retryAttempts,
            maxEventAge: props.maxEventAge,
          }),
        ],
      });
    }
    this.rules = rules;

    // AWS Health publishes only to the default bus; forwarding keeps the routing table the only router.
    const healthRoute = ROUTES.find(
      (route) => route.pattern.source?.includes('aws.health') && route.pattern['detail-type']?.includes(INBOUND.healthEvent),
    );
    if (healthRoute) {
      new events.Rule(this, 'ForwardHealthExposures', {
        description: 'Taskbound: forward AWS_RISK_CREDENTIALS_EXPOSED from the default bus',
        eventPattern: toCdkPattern(healthRoute.pattern),
        targets: [new targets.EventBus(props.bus, { deadLetterQueue: props.deadLetterQueues[healthRoute.handler] })],
      });
    }
  }
}
