import { describe, expect, it } from 'vitest';
import { nextStepFor } from '../../../cli/next-step';
import { harness } from './cli-harness';

describe('what an error says to do next', () => {
  it('points at the engine when nothing listens, and at credentials when there are none', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4010'), { code: 'ECONNREFUSED' });
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect(nextStepFor(refused)).toContain('npm start');
    expect(nextStepFor(new Error('fetch failed', { cause: refused }))).toContain('npm start');
    expect(nextStepFor(noCredentials)).toContain('--endpoint URL');
    expect(nextStepFor(new Error('something else'))).toBeUndefined();
  });

  it('prints the hint under the error, exit 1', async () => {
    const cli = harness();
    cli.store.listGrants = async () => {
      throw Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
    };
    const { code, err } = await cli.run('audit', 'verify');
    expect(code).toBe(1);
    expect(err).toBe(
      'taskbound: ResourceNotFoundException: Requested resource not found\n  the grant table was not found: check --table (or TASKBOUND_TABLE) and --region',
    );
  });
});
