// CLI support: a path the user typed is relative to the directory they typed it in. Through
// `npm run taskbound -- …` or `npm start -- …` the process runs in the package's root, not there;
// npm names the caller's directory in INIT_CWD. Defaults (the example policy, `.taskbound`) stay
// relative to where the process runs: the clone, as `npm start` and the CLI agree on them.
import { isAbsolute, resolve } from 'node:path';

/** `path` as the user meant it: from their own directory when npm started this process elsewhere. */
export function callerPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return isAbsolute(path) ? path : resolve(env.INIT_CWD ?? process.cwd(), path);
}
