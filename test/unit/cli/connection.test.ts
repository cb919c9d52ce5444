import { describe, expect, it } from 'vitest';
import { resolveConnection } from '../../../cli/clients';
import { UsageError } from '../../../cli/context';

describe('resolveConnection', () => {
  it('takes an http(s) --endpoint, with or without a trailing slash', () => {
    expect(resolveConnection({ endpoint: 'http://127.0.0.1:4010' }, {})).toMatchObject({
      endpoint: 'http://127.0.0.1:4010',
      region: 'us-east-1',
    });
    expect(resolveConnection({ endpoint: 'https://localhost:4010/' }, {}).endpoint).toBe('https://localhost:4010/');
  });

  it('refuses an --endpoint without its scheme as bad usage, naming the flag, instead of failing later on "Invalid URL"', () => {
    for (const endpoint of ['127.0.0.1:4010', 'localhost:4010', 'ftp://127.0.0.1:4010', '']) {
      const refused = (() => {
        try {
          resolveConnection({ endpoint }, {});
          return undefined;
        } catch (error) {
          return error;
        }
      })();
      expect(refused).toBeInstanceOf(UsageError);
      expect((refused as Error).message).toBe(
        `--endpoint: "${endpoint}" is not an http(s) URL; the local engine's is http://127.0.0.1:4010`,
      );
    }
  });
});
