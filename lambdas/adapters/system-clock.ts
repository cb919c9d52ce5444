// Adapter: the real clock. Only adapters and the composition roots read the time.
import type { Clock } from '../ports';

export const systemClock: Clock = { now: () => new Date() };
