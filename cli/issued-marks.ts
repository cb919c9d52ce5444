// CLI: remembers which tasks' credentials this machine has seen issued, by grant id only (no
// secret). A revoked credential's delivery is deleted, which looks exactly like one not issued
// yet; with the mark, `credentials` answers "revoked" at once instead of waiting for a delivery.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { grantIdFor } from '../lambdas/domain/ids';
import type { TaskRef } from '../sdk';

export interface IssuedMarks {
  mark(task: TaskRef): Promise<void>;
  has(task: TaskRef): Promise<boolean>;
}

/** Marks under TASKBOUND_STATE_DIR, else $XDG_STATE_HOME/taskbound, else ~/.local/state/taskbound. */
export function issuedMarks(env: NodeJS.ProcessEnv = process.env): IssuedMarks {
  const dir = join(env.TASKBOUND_STATE_DIR ?? join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'taskbound'), 'issued');
  const file = (task: TaskRef) => join(dir, grantIdFor(task.agentId, task.taskId));
  return {
    async mark(task) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(file(task), '', { mode: 0o600 });
    },
    has: (task) =>
      stat(file(task)).then(
        () => true,
        () => false,
      ),
  };
}
