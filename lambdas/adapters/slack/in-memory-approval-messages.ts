// Adapter: approval threads kept in this process, for the local engine (and tests).
import type { ApprovalMessages, ApprovalThread } from '../../ports';

/** Per-process approval threads, oldest forgotten first. */
export function inMemoryApprovalMessages(maxEntries = 1000): ApprovalMessages {
  const threads = new Map<string, ApprovalThread>();
  return {
    get: async (grantId) => threads.get(grantId),
    put: async (grantId, thread) => {
      threads.delete(grantId);
      threads.set(grantId, thread);
      for (const oldest of threads.keys()) {
        if (threads.size <= maxEntries) break;
        threads.delete(oldest);
      }
    },
  };
}
