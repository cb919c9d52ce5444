// Adapter (Slack): request signature verification for the interaction endpoint.
// `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{rawBody}` with the app's signing secret;
// requests older (or newer) than five minutes are refused, and so is a replay inside that window.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_WINDOW_SECONDS = 300;

/** Remembers signatures already accepted, until they would be too old to verify anyway. */
export interface ReplayStore {
  /** Records `key` until `expiresAtMs`; answers false if it was already recorded and not expired. */
  remember(key: string, expiresAtMs: number, nowMs: number): boolean;
}

/**
 * In-process replay memory, bounded: past `maxEntries` the oldest goes first. A Lambda keeps
 * one per container, so a replay to another container passes; the engine's decision rules
 * (an approver counts once, a settled grant takes no decision) keep such a replay harmless.
 */
export function inMemoryReplayStore(maxEntries = 10_000): ReplayStore {
  const seen = new Map<string, number>();
  return {
    remember(key, expiresAtMs, nowMs) {
      const expiry = seen.get(key);
      if (expiry !== undefined && expiry > nowMs) return false;
      seen.delete(key);
      for (const [oldKey, oldExpiry] of seen) {
        if (oldExpiry > nowMs && seen.size < maxEntries) break;
        seen.delete(oldKey);
      }
      seen.set(key, expiresAtMs);
      return true;
    },
  };
}

export interface SignedRequest {
  /** The `X-Slack-Request-Timestamp` header. */
  readonly timestamp: string | undefined;
  /** The `X-Slack-Signature` header. */
  readonly signature: string | undefined;
  /** The body exactly as received, before any parsing. */
  readonly rawBody: string;
}

export type SignatureVerdict =
  | { readonly valid: true }
  | {
      readonly valid: false;
      readonly reason: 'missing headers' | 'stale timestamp' | 'future timestamp' | 'bad signature' | 'replayed request';
    };

export function verifySlackSignature(request: SignedRequest, signingSecret: string, now: Date, replay: ReplayStore): SignatureVerdict {
  const { timestamp, signature, rawBody } = request;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return { valid: false, reason: 'missing headers' };
  const ageSeconds = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (ageSeconds > SIGNATURE_WINDOW_SECONDS) return { valid: false, reason: 'stale timestamp' };
  if (ageSeconds < -SIGNATURE_WINDOW_SECONDS) return { valid: false, reason: 'future timestamp' };
  const expected = Buffer.from(`v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`);
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { valid: false, reason: 'bad signature' };
  // Remembered only once proven genuine, so forged requests cannot flood the memory.
  const expiresAtMs = (Number(timestamp) + SIGNATURE_WINDOW_SECONDS) * 1000;
  if (!replay.remember(`${timestamp}:${signature}`, expiresAtMs, now.getTime())) return { valid: false, reason: 'replayed request' };
  return { valid: true };
}
