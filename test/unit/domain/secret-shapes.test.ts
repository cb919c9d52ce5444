import { describe, expect, it } from 'vitest';
import { redactSecretShapes } from '../../../lambdas/domain/secret-shapes';
import { taskStartedSchema, agentStatusSchema } from '../../../lambdas/domain/events';
import { operatorRequestSchema } from '../../../lambdas/domain/operator-api';

const KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('redactSecretShapes', () => {
  it('replaces what looks like secret material, every occurrence, and names what it looked like', () => {
    expect(redactSecretShapes(`old ${KEY}, new ${KEY}; token ghp_${'a1'.repeat(18)}`)).toBe(
      'old [redacted: an AWS secret access key], new [redacted: an AWS secret access key]; token [redacted: a GitHub token]',
    );
  });

  it('leaves no part of the secret: a webhook URL through its path, a private key through its END line', () => {
    const webhook = 'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx';
    const pem = '-----BEGIN RSA PRIVATE KEY----- MIIEowIBAAKCAQEA7 -----END RSA PRIVATE KEY-----';
    const redacted = redactSecretShapes(`posted to ${webhook} with ${pem} attached`);
    expect(redacted).toBe('posted to https://[redacted: a Slack webhook URL] with [redacted: a private key] attached');
    // A key cut off before its END line is redacted to the end of the text.
    expect(redactSecretShapes(`key: ${pem.slice(0, 40)} and more`)).toBe('key: [redacted: a private key]');
    // A secret shorter than its named marker gets the short one.
    expect(redactSecretShapes('sent Bearer abcdefghijklmnop')).toBe('sent [redacted]');
  });

  it('never lengthens the text, so a redacted field still fits its limit', () => {
    const slackToken = 'xoxb-12345678';
    const reason = Array.from({ length: 73 }, () => slackToken).join(' ');
    expect(reason.length).toBeLessThanOrEqual(1024);
    const redacted = redactSecretShapes(reason);
    expect(redacted).not.toContain('xoxb');
    expect(redacted.length).toBeLessThanOrEqual(reason.length);
    expect(agentStatusSchema.parse({ agentId: 'a', by: 'secops', reason }).reason.length).toBeLessThanOrEqual(1024);
  });

  it('keeps identifiers and ordinary text: access key ids, hex digests, grant ids', () => {
    const text = 'AKIAIOSFODNN7EXAMPLE at 3f786850e387550fdab836ed7e6dc881de23001b for g-abcdefghijklmnopqrstuvwxyz';
    expect(redactSecretShapes(text)).toBe(text);
  });

  it('is applied by the inbound schemas to the free text people write', () => {
    const started = taskStartedSchema.parse({ taskId: 't', agentId: 'a', purpose: `use ${KEY}`, requestedBy: 'dev', scopes: ['s'] });
    const suspended = agentStatusSchema.parse({ agentId: 'a', by: 'secops', reason: `leaked ${KEY}` });
    const resume = operatorRequestSchema.parse({ action: 'resume', agentId: 'a', reason: `rotated ${KEY}` });
    expect(JSON.stringify([started, suspended, resume])).not.toContain(KEY);
    expect(started.purpose).toBe('use [redacted: an AWS secret access key]');
  });
});
