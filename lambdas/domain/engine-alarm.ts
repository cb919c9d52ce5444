// Domain: an alarm on the engine's own health (dead letters, failed revocations, credentials
// still valid, orphans, sweep errors), as CloudWatch publishes it to the alarm topic.
import * as z from 'zod';

/** The JSON CloudWatch publishes to an SNS topic when an alarm changes state; other keys are dropped. */
const engineAlarmSchema = z.object({
  AlarmName: z.string().min(1).max(255),
  AlarmDescription: z.string().max(1024).nullish(),
  NewStateValue: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
  OldStateValue: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']).optional(),
  NewStateReason: z.string().max(2048),
  StateChangeTime: z.string().max(64),
  Region: z.string().max(64).optional(),
});
export type EngineAlarm = z.infer<typeof engineAlarmSchema>;

/** Parses an SNS message body as an alarm; anything else is a value, not a throw. */
export function parseEngineAlarm(
  message: string,
): { readonly ok: true; readonly alarm: EngineAlarm } | { readonly ok: false; readonly reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return { ok: false, reason: 'the SNS message is not JSON' };
  }
  const parsed = engineAlarmSchema.safeParse(value);
  return parsed.success
    ? { ok: true, alarm: parsed.data }
    : { ok: false, reason: `not a CloudWatch alarm: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
}
