// Fault test: generated schedules (what the runtimes, people and scanners do, and when) with
// their faults, and the runner that plays one against a store, settles it and checks it.
import fc from 'fast-check';
import type { CredentialKind } from '../../lambdas/domain/policy';
import { parsePolicy } from '../../lambdas/domain/policy-file';
import type { Grant } from '../../lambdas/domain/grant';
import type { GrantStore } from '../../lambdas/ports';
import { TEST_POLICY_YAML } from '../helpers/test-policy';
import { FAULT_KINDS, type Fault } from './gate';
import { brokenInvariants, unsurfacedDuringOutage } from './invariants';
import { SWEEP_INTERVAL_MS, World } from './world';

/**
 * The test policy with a ten-minute approval window, so a schedule settles in simulated minutes,
 * and room for a burst of deploy-bot's grants (release-bot keeps its cap of 2).
 */
const FAULT_POLICY_TEXT = TEST_POLICY_YAML.replace('approvalTimeoutSeconds: 3600', 'approvalTimeoutSeconds: 600').replace(
  'maxConcurrentGrants: 5',
  'maxConcurrentGrants: 12',
);
export const FAULT_POLICY = parsePolicy(FAULT_POLICY_TEXT, 'faults.policy.yaml');

/**
 * The fault policy after an edit under the same scope names: repo-write narrowed (its statement now
 * names another repository), repo-read widened (a statement added). A `policy` step restarts on it.
 */
export const FAULT_POLICY_EDITED = parsePolicy(editedFaultPolicyText(), 'faults-edited.policy.yaml');

function editedFaultPolicyText(): string {
  const text = FAULT_POLICY_TEXT;
  const narrowed = text.replace(
    'Action: [codecommit:GitPush], Resource: "arn:aws:codecommit:us-east-1:111122223333:web" }',
    'Action: [codecommit:GitPush], Resource: "arn:aws:codecommit:us-east-1:111122223333:web-archive" }',
  );
  const widened = narrowed.replace(
    '      - { Effect: Allow, Action: [codecommit:GitPull], Resource: "arn:aws:codecommit:us-east-1:111122223333:web" }\n',
    '      - { Effect: Allow, Action: [codecommit:GitPull], Resource: "arn:aws:codecommit:us-east-1:111122223333:web" }\n' +
      '      - { Effect: Allow, Action: [codecommit:GetBranch], Resource: "arn:aws:codecommit:us-east-1:111122223333:web" }\n',
  );
  if (narrowed === text || widened === narrowed) throw new Error('the test policy no longer has the statements the edit expects');
  return widened;
}

export const AGENTS = ['release-bot', 'deploy-bot'] as const;
export const PEOPLE = ['lead@example.com', 'sre@example.com', 'cfo@example.com', 'dev@example.com'] as const;
/** Per agent, the scope sets its runtimes ask for: mostly entitled, the last one not. */
const SCOPE_SETS: readonly (readonly string[])[][] = [
  [['repo-read'], ['repo-write', 'repo-read'], ['repo-read'], ['repo-write'], ['deploy-web']],
  [['repo-read'], ['deploy-web'], ['refund'], ['bucket-read-key'], ['deploy-web', 'repo-read'], ['refund', 'bucket-read-key'], ['nope']],
];

export type Step =
  | {
      readonly op: 'start';
      readonly agent: number;
      readonly task: number;
      readonly scopes: number;
      readonly ttl: number;
      readonly delay: number;
    }
  | { readonly op: 'end'; readonly agent: number; readonly task: number; readonly delay: number }
  | { readonly op: 'approve' | 'deny'; readonly agent: number; readonly task: number; readonly person: number; readonly delay: number }
  | { readonly op: 'leak'; readonly agent: number; readonly task: number; readonly by: 'key' | 'secret' }
  | { readonly op: 'suspend' | 'resume'; readonly agent: number }
  /** Many tasks of one agent at once, each asking for an auto-approved scope (sessions and keys), then perhaps its kill switch. */
  | { readonly op: 'burst'; readonly agent: number; readonly count: number; readonly ttl: number; readonly suspendAfterMs?: number }
  | { readonly op: 'duplicate'; readonly of: number; readonly delay: number }
  /** The engine restarted on FAULT_POLICY_EDITED (a deploy, on AWS). */
  | { readonly op: 'policy' }
  | { readonly op: 'wait'; readonly ms: number };

export interface Schedule {
  readonly steps: readonly Step[];
  readonly faults: readonly Fault[];
  readonly keyLagMs: number;
  readonly invisibleMs: number;
  readonly slackDownForMs: number;
  /** Revocations of this kind fail for as long as the outage lasts (checked: surfaced and due), then heal. */
  readonly outage?: CredentialKind;
  /** The vault stages a credential with its value (the stack's delivery key locks it) instead of preparing the secret empty. */
  readonly keyLockedVault?: boolean;
}

/** At most this many tasks in a burst, each with its own task id. */
const BURST_TASKS = 8;
/** Per agent, the auto-approved scope sets a burst alternates between. */
const BURST_SCOPES: readonly (readonly string[])[][] = [
  [['repo-read'], ['repo-write']],
  [['repo-read'], ['bucket-read-key']],
];

const agent = fc.integer({ min: 0, max: AGENTS.length - 1 });
const task = fc.integer({ min: 0, max: 3 });
const delay = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 45_000 }));

export const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('start' as const),
      agent,
      task,
      scopes: fc.nat({ max: 6 }),
      ttl: fc.integer({ min: 60, max: 400 }),
      delay,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('end' as const), agent, task, delay }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constantFrom('approve' as const, 'deny' as const),
      agent,
      task,
      person: fc.integer({ min: 0, max: PEOPLE.length - 1 }),
      delay,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('leak' as const), agent, task, by: fc.constantFrom('key' as const, 'secret' as const) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('suspend' as const, 'resume' as const), agent }) },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        op: fc.constant('burst' as const),
        agent,
        count: fc.integer({ min: 2, max: BURST_TASKS }),
        ttl: fc.integer({ min: 60, max: 400 }),
        suspendAfterMs: delay,
      },
      { requiredKeys: ['op', 'agent', 'count', 'ttl'] },
    ),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('duplicate' as const), of: fc.nat({ max: 30 }), delay }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('policy' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('wait' as const),
      ms: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 5_000, max: 240_000 })),
    }),
  },
);

export const scheduleArbitrary: fc.Arbitrary<Schedule> = fc.record(
  {
    steps: fc.array(stepArbitrary, { minLength: 1, maxLength: 24 }),
    faults: fc.array(fc.record({ at: fc.nat({ max: 160 }), kind: fc.constantFrom(...FAULT_KINDS) }), { maxLength: 6 }),
    keyLagMs: fc.integer({ min: 0, max: 10_000 }),
    invisibleMs: fc.integer({ min: 0, max: 8_000 }),
    slackDownForMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 600_000 })),
    outage: fc.constantFrom('aws-iam-access-key' as const, 'aws-sts-session' as const),
    keyLockedVault: fc.boolean(),
  },
  { requiredKeys: ['steps', 'faults', 'keyLagMs', 'invisibleMs', 'slackDownForMs'] },
);

/** How long an outage goes on past the schedule's last step before it heals. */
const OUTAGE_MS = 10 * 60_000;

const scopeSet = (agentIndex: number, index: number) => {
  const sets = SCOPE_SETS[agentIndex]!;
  return sets[index % sets.length]!;
};

const taskIdOf = (task: number) => `t-${task}`;

function play(world: World, step: Step, sent: { inbound: Parameters<World['send']>[0] }[]): Promise<void> | void {
  const agentId = 'agent' in step ? AGENTS[step.agent]! : '';
  const taskId = 'task' in step ? taskIdOf(step.task) : '';
  const send = (inbound: Parameters<World['send']>[0], after = 0) => {
    sent.push({ inbound });
    world.send(inbound, after);
  };
  switch (step.op) {
    case 'start':
      return send(
        {
          type: 'start',
          detail: {
            agentId,
            taskId,
            purpose: 'fault drill',
            requestedBy: 'dev@example.com',
            scopes: [...scopeSet(step.agent, step.scopes)],
            ttlSeconds: step.ttl,
          },
        },
        step.delay,
      );
    case 'end':
      return send({ type: 'end', detail: { agentId, taskId, outcome: 'succeeded' } }, step.delay);
    case 'approve':
    case 'deny':
      return world.decide(agentId, taskId, PEOPLE[step.person]!, step.op, step.delay);
    case 'leak':
      return send(world.leak(agentId, taskId, step.by));
    case 'suspend':
    case 'resume':
      return send({ type: step.op, agentId });
    case 'burst': {
      const scopes = BURST_SCOPES[step.agent]!;
      for (let index = 0; index < step.count; index++) {
        const detail = {
          agentId,
          taskId: `burst-${index}`,
          purpose: 'fault drill',
          requestedBy: 'dev@example.com',
          scopes: [...scopes[index % scopes.length]!],
          ttlSeconds: step.ttl,
        };
        send({ type: 'start', detail });
      }
      if (step.suspendAfterMs !== undefined) send({ type: 'suspend', agentId }, step.suspendAfterMs);
      return;
    }
    case 'duplicate': {
      const original = sent[step.of % Math.max(sent.length, 1)];
      if (original) world.send(original.inbound, step.delay);
      return;
    }
    case 'policy':
      return world.changePolicy(FAULT_POLICY_EDITED);
    case 'wait':
      return world.advance(step.ms);
  }
}

export interface ScheduleRun {
  readonly broken: readonly string[];
  readonly calls: number;
  readonly credentials: number;
  readonly faultsInjected: number;
  /** Proofs of death handed on to prove-revocation during the run. */
  readonly proofsHandedOn: number;
}

/** Plays the schedule, keeps an outage (if any) going long enough to check it is surfaced, heals, settles, checks. */
export async function runSchedule(
  schedule: Schedule,
  store: GrantStore,
  readAll: () => Promise<{ grants: Grant[]; rejectedExcerpts: string[] }>,
  options: { readonly asLocalEngine?: boolean } = {},
): Promise<ScheduleRun> {
  const world = new World({
    ...options,
    policy: FAULT_POLICY,
    store,
    faults: schedule.faults,
    consistency: { keyLagMs: schedule.keyLagMs, invisibleMs: schedule.invisibleMs },
    slackDownForMs: schedule.slackDownForMs,
    keyLockedVault: schedule.keyLockedVault === true,
  });
  const startedAt = world.now;
  if (schedule.outage) world.platform.outages.add(schedule.outage);
  const sent: { inbound: Parameters<World['send']>[0] }[] = [];
  for (const step of schedule.steps) await play(world, step, sent);
  const broken: string[] = [];
  if (schedule.outage) {
    await world.advance(OUTAGE_MS);
    // The outage ran from the first step: no revocation of its kind could land before now.
    world.platform.outageMs[schedule.outage] = world.now - startedAt;
    broken.push(...unsurfacedDuringOutage(world, (await readAll()).grants).map((why) => `during the outage: ${why}`));
    world.platform.outages.clear();
  }
  // Settle: no new faults; long enough for every TTL, approval window and retention to run out.
  world.gate.enabled = false;
  await world.advance(30 * 60_000 + 5 * SWEEP_INTERVAL_MS);
  const settled = await readAll();
  broken.push(...brokenInvariants(world, settled));
  return {
    broken,
    calls: world.gate.calls,
    credentials: world.platform.credentials.length,
    faultsInjected: world.gate.injected.length,
    proofsHandedOn: world.proofsHandedOn,
  };
}
