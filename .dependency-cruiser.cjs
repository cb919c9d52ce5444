// The layering, enforced (run by `npm test`): the domain is pure, use cases see only the
// domain and the ports, adapters never reach into handlers or the local engine's wiring.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'The domain knows nothing of ports, adapters, handlers, AWS, Lambda or I/O.',
      severity: 'error',
      from: { path: '^lambdas/domain/' },
      to: {
        path: [
          '^lambdas/(use-cases|adapters|handlers|local)/',
          '^lambdas/ports\\.ts$',
          '@aws-sdk',
          '@aws-lambda-powertools',
          '@middy',
          '^(node:)?(fs|http|https|net|child_process)',
        ],
      },
    },
    {
      name: 'use-cases-see-only-domain-and-ports',
      severity: 'error',
      from: { path: '^lambdas/use-cases/' },
      to: { path: ['^lambdas/(adapters|handlers|local)/', '@aws-sdk', '@aws-lambda-powertools', '@middy'] },
    },
    {
      name: 'adapters-do-not-reach-up',
      severity: 'error',
      from: { path: '^lambdas/adapters/' },
      to: { path: '^lambdas/handlers/' },
    },
    {
      name: 'only-local-adapters-know-the-local-engine',
      severity: 'error',
      from: { path: '^lambdas/adapters/(aws|slack)/' },
      to: { path: '^lambdas/local/' },
    },
    {
      name: 'no-policy-lint-in-lambdas',
      comment: 'The scope lint carries the Service Authorization Reference (MBs): the local engine, synth and the CLI run it, never a Lambda bundle.',
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
