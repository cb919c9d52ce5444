import { describe, expect, it } from 'vitest';
import { routingConfigSchema } from '../../../lambdas/domain/alert-routing';
import type { EngineAlarm } from '../../../lambdas/domain/engine-alarm';
import type { AlertMessage, DeliveryResult, Notifier } from '../../../lambdas/ports';
import { postDigest, postEngineAlarm } from '../../../lambdas/use-cases/post-health';
import { FakeClock } from '../../helpers/fake-ports';
import { InMemoryGrantStore } from '../../helpers/in-memory-grant-store';
import { requestedGrant } from '../../helpers/grants';

/** Records every message and the channels it went to; answers `result`. */
class RecordingNotifier implements Notifier {
  readonly sent: { readonly message: AlertMessage; readonly channels: readonly string[] }[] = [];
  constructor(private readonly result: DeliveryResult = { ok: true, refs: [] }) {}
  async notify(message: AlertMessage, channels: readonly string[]): Promise<DeliveryResult> {
    this.sent.push({ message, channels });
    return this.result;
  }
}

const ROUTING = routingConfigSchema.parse({ defaultChannel: '#taskbound', severityChannels: { critical: '#sec-critical' } });
const alarm = (NewStateValue: EngineAlarm['NewStateValue']): EngineAlarm => ({
  AlarmName: 'taskbound-dlq-depth',
  NewStateValue,
  NewStateReason: 'Threshold crossed: 1 datapoint [3.0] was greater than the threshold (0.0).',
  StateChangeTime: '2026-11-28T12:00:00.000+0000',
});

describe('postEngineAlarm', () => {
  it('posts an alarm to the critical channel and its return to OK to the info one (the default here)', async () => {
    const notifier = new RecordingNotifier();

    expect(await postEngineAlarm({ notifier, routing: ROUTING }, alarm('ALARM'))).toEqual({ outcome: 'posted' });
    expect(await postEngineAlarm({ notifier, routing: ROUTING }, alarm('OK'))).toEqual({ outcome: 'posted' });

    expect(notifier.sent.map(({ channels }) => channels)).toEqual([['#sec-critical'], ['#taskbound']]);
    expect(notifier.sent[0]?.message).toEqual({ kind: 'engine-alarm', alarm: alarm('ALARM') });
  });

  it('is a failed outcome, with the notifier’s error, when the alarm could not be delivered', async () => {
    const notifier = new RecordingNotifier({ ok: false, error: 'channel_not_found', attempts: 3 });
    expect(await postEngineAlarm({ notifier, routing: ROUTING }, alarm('ALARM'))).toEqual({
      outcome: 'failed',
      error: 'channel_not_found',
    });
  });
});

describe('postDigest', () => {
  it('posts the period’s report to the info channel and says how many grants it counted', async () => {
    const store = new InMemoryGrantStore();
    await store.create(requestedGrant({ taskId: 'in-period', at: '2026-11-28T11:00:00.000Z' }));
    await store.create(requestedGrant({ taskId: 'before-period', at: '2026-11-26T11:00:00.000Z' }));
    const notifier = new RecordingNotifier();

    const outcome = await postDigest({ notifier, routing: ROUTING, store, clock: new FakeClock() }, 24);

    expect(outcome).toEqual({ outcome: 'posted', grants: 1 });
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]?.channels).toEqual(['#taskbound']);
    expect(notifier.sent[0]?.message).toMatchObject({
      kind: 'digest',
      hours: 24,
      report: { since: '2026-11-27T12:00:00.000Z', until: '2026-11-28T12:00:00.000Z' },
    });
  });

  it('is a failed outcome when the digest could not be delivered, still counting the grants', async () => {
    const notifier = new RecordingNotifier({ ok: false, error: 'rate_limited', attempts: 5 });
    const outcome = await postDigest({ notifier, routing: ROUTING, store: new InMemoryGrantStore(), clock: new FakeClock() }, 24);
    expect(outcome).toEqual({ outcome: 'failed', error: 'rate_limited', grants: 0 });
  });
});
