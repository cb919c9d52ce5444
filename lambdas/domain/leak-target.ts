// Domain: what a leak report's `credentialId` names (docs/contract.md §1): an access key id, or a
// delivery secret's name or ARN. Shared by the engine's report-leak and the CLI's `leak`, so the
// CLI can say before sending that no grant holds what was named.
import { grantIdFor } from './ids';

const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{12,124}$/;
/** `taskbound/<agent>/<task>`, bare or inside a Secrets Manager ARN (which appends `-XXXXXX`). */
const DELIVERY_NAME = /(?:^|:secret:)taskbound\/([a-z0-9][a-z0-9-]{0,62})\/([A-Za-z0-9._:-]{1,128}?)(?:-[A-Za-z0-9]{6})?$/;

/** What a leak report's credential id names: an access key id, or the grants a delivery's name or ARN may be (most likely first). */
export function namedByLeak(credentialId: string): { readonly accessKeyId: string } | { readonly grantIds: readonly string[] } {
  if (ACCESS_KEY_ID.test(credentialId)) return { accessKeyId: credentialId };
  const named = DELIVERY_NAME.exec(credentialId);
  if (!named) return { grantIds: [] };
  const [, agentId, taskId] = named as unknown as [string, string, string];
  if (!credentialId.includes(':secret:')) return { grantIds: [grantIdFor(agentId, taskId)] };
  // An ARN whose task id itself ends like a random suffix: the name as written is the second guess.
  const whole = credentialId.split(':secret:')[1] ?? '';
  const [, wholeAgent = '', wholeTask = ''] = whole.split('/');
  return { grantIds: [grantIdFor(agentId, taskId), grantIdFor(wholeAgent, wholeTask)] };
}
