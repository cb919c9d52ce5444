// Domain: what a runtime reads from its delivery secret `taskbound/<agentId>/<taskId>`
// (docs/contract.md §5). The engine writes this shape and the runtime SDK parses it with this schema.
import * as z from 'zod';
import { CREDENTIAL_KINDS } from './policy';

export const DELIVERY_STATUSES = ['pending_approval', 'issued', 'denied'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const deliveryPayloadSchema = z.object({
  status: z.enum(DELIVERY_STATUSES),
  grantId: z.string().min(1),
  reason: z.string().optional(),
  kind: z.enum(CREDENTIAL_KINDS).optional(),
  accessKeyId: z.string().min(1).optional(),
  secretAccessKey: z.string().min(1).optional(),
  sessionToken: z.string().min(1).optional(),
  /** ISO 8601: when the credential stops working by itself. */
  expiration: z.iso.datetime().optional(),
  scopes: z.array(z.string()).readonly(),
});
export type DeliveryPayload = z.infer<typeof deliveryPayloadSchema>;
