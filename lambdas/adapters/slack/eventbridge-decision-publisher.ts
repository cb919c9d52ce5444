// Adapter (EventBridge): puts the interaction endpoint's `Grant Decision` on the bus.
// PutEvents answers 200 even when an entry failed, so the entry's own result is checked.
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { InboundEvent } from '../../adapters/slack/handle-interaction';

export function eventBridgeDecisionPublisher(client: EventBridgeClient, eventBusName: string): (event: InboundEvent) => Promise<void> {
  return async (event) => {
    const answer = await client.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: eventBusName, Source: event.source, DetailType: event.detailType, Detail: JSON.stringify(event.detail), Time: event.time }],
      }),
    );
    const entry = answer.Entries?.[0];
    if ((answer.FailedEntryCount ?? 0) > 0 || !entry?.EventId) {
      throw new Error(`the bus refused the decision (${entry?.ErrorCode ?? 'no event id'})`);
    }
  };
}
