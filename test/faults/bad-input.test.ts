// Bad input at scale, beyond the event handlers (test/unit/handlers/fuzz.test.ts): the policy
// loader and the CLI's inputs. Each hostile input is refused with a reason that names where
// the problem is, and nothing is sent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../lambdas/domain/errors';
import { parsePolicy } from '../../lambdas/domain/policy-file';
import { TEST_POLICY_YAML } from '../helpers/test-policy';
import { harness } from '../unit/cli/cli-harness';

const billionLaughs = [
  'a: &a [x, x, x, x, x, x, x, x, x]',
  ...'bcdefghi'
    .split('')
    .map((name, index) => `${name}: &${name} [${Array.from({ length: 9 }, () => `*${'abcdefghi'[index]}`).join(', ')}]`),
].join('\n');

const HOSTILE_POLICIES: ReadonlyArray<readonly [string, string, RegExp]> = [
  ['an alias bomb', billionLaughs, /YAML: Excessive alias count/],
  ['brackets nested 50,000 deep', `${'['.repeat(50_000)}${']'.repeat(50_000)}`, /\(file\): brackets nested 50000 deep/],
  ['a 2 MB file', `version: 1\n# ${'x'.repeat(2_000_000)}`, /\(file\): \d+ bytes/],
  [
    'a NUL inside an approver',
    TEST_POLICY_YAML.replace('[lead@example.com, sre@example.com]', '["lead\\0@example.com", sre@example.com]'),
    /approvals\.deploy\.approverGroup\.0: contains control/,
  ],
  [
    'a C1 control (an 8-bit escape sequence introducer) inside an owner',
    TEST_POLICY_YAML.replace('owner: lead@example.com', 'owner: "lead\\u009b@example.com"'),
    /agents\.release-bot\.owner: contains control/,
  ],
  [
    'a zero-width space inside an owner',
    TEST_POLICY_YAML.replace('owner: lead@example.com', 'owner: "lead\\u200b@example.com"'),
    /agents\.release-bot\.owner: contains control, invisible/,
  ],
  [
    'a soft hyphen (invisible) inside an approver',
    TEST_POLICY_YAML.replace('[lead@example.com, sre@example.com]', '["lead\\u00ad@example.com", sre@example.com]'),
    /approvals\.deploy\.approverGroup\.0: contains control, invisible/,
  ],
  [
    'an unpaired surrogate in a purpose',
    TEST_POLICY_YAML.replace('Deploys the web app', '"Deploys \\ud800"'),
    /agents\.deploy-bot\.purpose: contains control/,
  ],
  [
    'a __proto__ agent',
    TEST_POLICY_YAML.replace('agents:\n', 'agents:\n  __proto__: { owner: x }\n'),
    /agents\.__proto__: "__proto__" is not allowed/,
  ],
  [
    'a right-to-left override in a scope name',
    TEST_POLICY_YAML.replace('  refund:\n', '  "ref\\u202eund":\n'),
    /scopes\.ref.und: contains control/,
  ],
  [
    'a wildcard runtime principal',
    TEST_POLICY_YAML.replace('arn:aws:iam::111122223333:role/agent-runtime', '"*"'),
    /agents\.release-bot\.runtimePrincipal: must be an IAM role or user ARN/,
  ],
  ['an agent id with a key separator', TEST_POLICY_YAML.replace('  deploy-bot:\n', '  "deploy#bot":\n'), /agents\.deploy#bot/],
  ['an agent id shaped like a path', TEST_POLICY_YAML.replace('  deploy-bot:\n', '  "../deploy-bot":\n'), /agents\.\.\.\/deploy-bot/],
];

describe('the policy loader under hostile files', () => {
  it.each(HOSTILE_POLICIES)('refuses %s with a PolicyError naming the file and the place', (_name, text, where) => {
    const load = () => parsePolicy(text, 'hostile.policy.yaml');

    expect(load).toThrow(PolicyError);
    expect(load).toThrow(/^hostile\.policy\.yaml: invalid policy/);
    expect(load).toThrow(where);
  });

  it('never throws anything but a PolicyError, whatever the bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 400 }),
          fc.string({ maxLength: 400 }).map((tail) => `${TEST_POLICY_YAML.slice(0, 900)}${tail}`),
        ),
        (text) => {
          try {
            parsePolicy(text, 'random.yaml');
          } catch (error) {
            expect(error).toBeInstanceOf(PolicyError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses a valid policy with any one value replaced by a hostile one, never loading it silently changed', () => {
    const lines = TEST_POLICY_YAML.split('\n');
    const valueLines = lines
      .map((line, index) => [line, index] as const)
      .filter(([line]) => /^\s+[a-zA-Z]+: [^{[]/.test(line))
      .map(([, index]) => index);
    const hostile = fc.constantFrom(
      '"\\0"',
      '"x\\u202e"',
      '"\\ud800"',
      '[[[[[[]]]]]]',
      '{ a: 1 }',
      '-1',
      '""',
      '*undefined',
      '!!binary AAAA',
    );
    fc.assert(
      fc.property(fc.constantFrom(...valueLines), hostile, (index, value) => {
        const changed = [...lines];
        changed[index] = changed[index]!.replace(/: .*$/, `: ${value}`);
        try {
          parsePolicy(changed.join('\n'), 'mutated.yaml');
        } catch (error) {
          expect(error).toBeInstanceOf(PolicyError);
          expect((error as PolicyError).issues.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('the CLI under hostile arguments', () => {
  const START = [
    'emit',
    'task-started',
    '--agent',
    'release-bot',
    '--purpose',
    'drill',
    '--requested-by',
    'dev@example.com',
    '--scopes',
    'repo-read',
  ];
  const HOSTILE = [
    '../etc',
    '*',
    'a#b',
    'arn:aws:iam::111122223333:role/x#y',
    'x\u0000',
    '\ud800',
    'lead\u200b@example.com',
    'x'.repeat(100_000),
  ];

  it.each(HOSTILE.map((value) => [JSON.stringify(value.slice(0, 24)), value] as const))(
    'refuses --task %s with exit 2, naming the flag, sending nothing',
    async (_shown, value) => {
      const cli = harness();

      const { code, err } = await cli.run(...START, '--task', value);

      expect(code).toBe(2);
      expect(err).toContain('--task');
      expect(cli.events.sent).toEqual([]);
    },
  );

  it.each(
    HOSTILE.filter((value) => ['\u0000', '\ud800', '\u200b', 'x'.repeat(1000)].some((bad) => value.includes(bad))).map(
      (value) => [JSON.stringify(value.slice(0, 24)), value] as const,
    ),
  )('refuses --requested-by %s with exit 2, naming the flag', async (_shown, value) => {
    const cli = harness();

    const { code, err } = await cli.run(...START.map((arg) => (arg === 'dev@example.com' ? value : arg)), '--task', 'cli-fuzz');

    expect(code).toBe(2);
    expect(err).toContain('--requested-by');
    expect(cli.events.sent).toEqual([]);
  });

  it.each([
    ['approve', 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa'],
    ['deny', 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa'],
    ['resume', 'release-bot'],
  ])('refuses %s with a control character in --reason with exit 2, naming the flag, sending nothing', async (command, subject) => {
    const cli = harness();

    const { code, err } = await cli.run(command, subject, '--reason', 'ok\u001b[31m');

    expect(code).toBe(2);
    expect(err).toContain('--reason: must not contain control characters');
    expect(cli.operator.sent).toEqual([]);
  });

  it('refuses a --context nested too deep to serialise, and one that is not an object', async () => {
    const cli = harness();
    const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;

    const nested = await cli.run(...START, '--task', 'ctx', '--context', deep);
    const notObject = await cli.run(...START, '--task', 'ctx', '--context', '[1,2]');

    expect([nested.code, notObject.code]).toEqual([2, 2]);
    expect(nested.err).toContain('--context');
    expect(notObject.err).toContain('--context: must be a JSON object');
    expect(cli.events.sent).toEqual([]);
  });

  it('never crashes on random arguments: every run ends with an exit code and sends only valid events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.constantFrom(
              'emit',
              'task-started',
              'task-ended',
              '--task',
              '--agent',
              '--ttl',
              '--context',
              '--json',
              'revoke',
              'grants',
              'show',
            ),
            fc.string({ maxLength: 40 }),
          ),
          { maxLength: 12 },
        ),
        async (args) => {
          const cli = harness();
          const { code } = await cli.run(...args);
          expect([0, 1, 2]).toContain(code);
        },
      ),
      { numRuns: 300 },
    );
  });
});
