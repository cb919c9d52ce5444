// Adapter data: the per-second request quotas AWS documents for the calls the engine makes, per
// account and region (docs/scale.md gives each one's source and the date it was read). The quota
// simulation throttles its emulated services at these, and paces the engine's clients to them.
import type { QuotaTable } from './quota-throttle';

/**
 * Documented defaults (us-east-1). Calls with no documented rate (IAM, STS AssumeRole) are absent:
 * AWS publishes no number for them, so nothing here can pretend to know it.
 */
export const DOCUMENTED_QUOTAS: QuotaTable = {
  // Secrets Manager: not adjustable.
  'secretsmanager:CreateSecret': 50,
  'secretsmanager:PutResourcePolicy': 50,
  'secretsmanager:PutSecretValue': 50,
  'secretsmanager:TagResource': 50,
  'secretsmanager:DeleteSecret': 50,
  'secretsmanager:RestoreSecret': 50,
  'secretsmanager:GetSecretValue': 10_000,
  'secretsmanager:DescribeSecret': 40_000,
  // The kill switch's proofs read their deliveries 20 at a time (change-agent-status.ts).
  'secretsmanager:BatchGetSecretValue': 100,
  // EventBridge: adjustable.
  'events:PutEvents': 10_000,
  // EventBridge Scheduler: adjustable.
  'scheduler:CreateSchedule': 5_000,
  'scheduler:DeleteSchedule': 1_000,
};

/** The table scaled by `factor` (a quick run throttles at a fifth of the quota, and floods at 10× that). */
export function scaledQuotas(factor: number, quotas: QuotaTable = DOCUMENTED_QUOTAS): QuotaTable {
  if (!(factor > 0)) throw new RangeError('factor must be positive');
  return Object.fromEntries(Object.entries(quotas).map(([operation, rate]) => [operation, rate * factor]));
}
