import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { taskStartedSchema } from '../../../lambdas/domain/events';
import { secretShapeOf } from '../../../lambdas/domain/secret-shapes';

const KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const GITHUB_TOKEN = `ghp_${'a1'.repeat(18)}`;
const start = (context: unknown) => ({
  taskId: 't-1',
  agentId: 'release-bot',
  purpose: 'bump lodash',
  requestedBy: 'dev@example.com',
  scopes: ['repo-read'],
  context,
});
/** The reasons a Task Started with `context` is refused for, as `path: message`. */
const refusals = (context: unknown) => {
  const parsed = taskStartedSchema.safeParse(start(context));
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};
const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { level: nested(depth - 1) });

describe("Task Started's context", () => {
  it('refuses control characters in a string value, naming the path and never the text', () => {
    expect(refusals({ ticket: 'OPS-1\u001b[2J', notes: ['fine', 'bad\u0000'] })).toEqual([
      'context.ticket: must not contain control characters or unpaired surrogates',
      'context.notes.1: must not contain control characters or unpaired surrogates',
    ]);
  });

  it('refuses an unsafe or secret-shaped key, naming it by position so the reason never carries it', () => {
    const reasons = refusals({ ok: 1, 'tic\u001bket': 'x', nested: { [GITHUB_TOKEN]: 'value', 'zero\u200bwidth': 2 } });

    expect(reasons).toEqual([
      'context.(key 2): key must not contain control characters or unpaired surrogates',
      'context.nested.(key 1): key looks like a GitHub token: a key is a name, not a place for a secret',
      'context.nested.(key 2): key must not contain invisible or direction-changing characters',
    ]);
    expect(reasons.join(' ')).not.toContain(GITHUB_TOKEN);
    expect(reasons.join(' ')).not.toContain('\u001b');
    expect(reasons.join(' ')).not.toContain('\u200b');
  });

  it('redacts secret shapes in string values at any depth, and keeps everything else as sent', () => {
    const parsed = taskStartedSchema.parse(
      start({ ticket: 'OPS-7', pasted: `key ${KEY}`, deep: { list: [GITHUB_TOKEN, 42, true, null] }, count: 3 }),
    );

    expect(parsed.context).toEqual({
      ticket: 'OPS-7',
      pasted: 'key [redacted: an AWS secret access key]',
      deep: { list: ['[redacted: a GitHub token]', 42, true, null] },
      count: 3,
    });
  });

  it('accepts objects and arrays nested 8 deep, context included, and refuses a ninth level with the path to it', () => {
    expect(refusals(nested(8))).toEqual([]);
    expect(refusals(nested(9))).toEqual([
      'context.level.level.level.level.level.level.level.level: context may nest objects and arrays at most 8 deep (context itself included)',
    ]);
    expect(refusals({ list: [[[[[[[['too deep']]]]]]]] })).toEqual([
      'context.list.0.0.0.0.0.0.0: context may nest objects and arrays at most 8 deep (context itself included)',
    ]);
  });

  it('stores at most 4 KB of JSON and no secret shape, whatever context passes', () => {
    const secret = fc.constantFrom(KEY, GITHUB_TOKEN, 'xoxb-123456789-abcdef', `Bearer ${'t'.repeat(20)}`, 'A'.repeat(120));
    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      secret,
      fc.tuple(fc.string({ maxLength: 20 }), secret).map(([a, b]) => `${a}"${b}`),
    );
    const context = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.oneof(text, fc.array(text, { maxLength: 40 }), fc.dictionary(fc.string({ maxLength: 8 }), text, { maxKeys: 20 })),
      { maxKeys: 30 },
    );

    fc.assert(
      fc.property(context, (value) => {
        const parsed = taskStartedSchema.safeParse(start(value));
        if (!parsed.success) return;
        expect(Buffer.byteLength(JSON.stringify(parsed.data.context))).toBeLessThanOrEqual(4096);
        const strings = JSON.stringify(parsed.data.context).split('"');
        for (const piece of strings) expect(secretShapeOf(piece)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});
