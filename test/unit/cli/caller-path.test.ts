import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callerPath } from '../../../cli/caller-path';

describe('callerPath', () => {
  it("resolves a relative path from the caller's directory npm names", () => {
    expect(callerPath('mine.yaml', { INIT_CWD: '/home/dev/agents' })).toBe('/home/dev/agents/mine.yaml');
    expect(callerPath('../shared/p.yaml', { INIT_CWD: '/home/dev/agents' })).toBe('/home/dev/shared/p.yaml');
  });

  it('leaves an absolute path alone, and without npm resolves from where the process runs', () => {
    expect(callerPath('/etc/taskbound/policy.yaml', { INIT_CWD: '/home/dev' })).toBe('/etc/taskbound/policy.yaml');
    expect(callerPath('mine.yaml', {})).toBe(resolve('mine.yaml'));
  });
});
