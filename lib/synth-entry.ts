// CDK entry points (bin/app.ts, bin/spoke.ts): a policy or setting error ends synth with its
// message, which names the file or setting, the path and what is wrong; a stack trace adds nothing.
import { PolicyError } from '../lambdas/domain/errors';
import { ConfigError } from './config';

/** Runs `build`; a PolicyError or ConfigError is printed and exits 1, anything else is thrown as is. */
export async function synthesizeOrExplain(build: () => unknown): Promise<void> {
  try {
    await build();
  } catch (error) {
    if (!(error instanceof PolicyError || error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
