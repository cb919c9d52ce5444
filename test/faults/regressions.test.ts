// Fault test: the minimal schedules the model-based fault test shrank its failures to, each kept
// as a named regression test (and each the failing test its engine fix started from).
import { describe, expect, it } from 'vitest';
import { DynamoDbGrantStore } from '../../lambdas/adapters/aws/dynamodb-grant-store';
import { ensureGrantTable } from '../../lambdas/adapters/aws/grant-table-definition';
import { useEmbeddedStore } from '../helpers/embedded-store-fixture';
import { InMemoryGrantStore } from '../helpers/in-memory-grant-store';
import { runSchedule, type Schedule } from './schedule';
import { FAULT_TIMING } from './world';

async function brokenBy(schedule: Schedule): Promise<readonly string[]> {
  const store = new InMemoryGrantStore(FAULT_TIMING);
  const run = await runSchedule(schedule, store, async () => ({
    grants: store.all(),
    rejectedExcerpts: store.rejected.map((entry) => JSON.stringify(entry)),
  }));
  return run.broken;
}

const calm = { faults: [], keyLagMs: 0, invisibleMs: 0, slackDownForMs: 0 } as const;

describe('fault schedules that once broke a promise', () => {
  it('a suspension delivered together with a Task Started leaves no credential alive until its TTL', async () => {
    // The start read the agent's standing before the suspension was written, and the suspension
    // listed the agent's live grants before the start's grant was written: neither saw the other.
    const schedule: Schedule = {
      ...calm,
      steps: [
        { op: 'start', agent: 1, task: 0, scopes: 0, ttl: 151, delay: 0 },
        { op: 'suspend', agent: 1 },
      ],
    };

    expect(await brokenBy(schedule)).toEqual([]);
  });

  it("a suspension that claimed a start's grant, then a resume, leaves the start nothing to issue", async () => {
    // The start's second read saw the agent resumed and went on to issue for a grant the
    // suspension had already moved to revoking (found when the standing read joined the slot query).
    const schedule: Schedule = {
      ...calm,
      steps: [
        { op: 'suspend', agent: 1 },
        { op: 'start', agent: 1, task: 0, scopes: 0, ttl: 60, delay: 0 },
        { op: 'resume', agent: 1 },
        { op: 'approve', agent: 0, task: 0, person: 0, delay: 0 },
      ],
    };

    expect(await brokenBy(schedule)).toEqual([]);
  });

  it('a start whose second read races a suspension and its resume issues nothing for a grant being revoked', async () => {
    const schedule: Schedule = {
      ...calm,
      steps: [
        { op: 'start', agent: 0, task: 0, scopes: 0, ttl: 60, delay: 0 },
        { op: 'suspend', agent: 0 },
        { op: 'resume', agent: 0 },
      ],
    };

    expect(await brokenBy(schedule)).toEqual([]);
  });

  it('a key issued by a run that crashed before recording it is reported as Revocation Failed while IAM cannot delete it', async () => {
    // The grant stayed `issuing`; the sweep's clean-up of a stuck issuance failed against the
    // outage and said so only in a log line: no event, no alert.
    const schedule: Schedule = {
      ...calm,
      steps: [{ op: 'start', agent: 1, task: 0, scopes: 3, ttl: 60, delay: 0 }],
      faults: [{ at: 5, kind: 'crash-before' }],
      outage: 'aws-iam-access-key',
    };

    expect(await brokenBy(schedule)).toEqual([]);
  });

  it('a resume whose write landed before its run crashed ends the suspension: a credential issued after it may live its TTL', async () => {
    // Suspend and resume land at once; a decision in the same process crashes, taking the
    // resume's run down after its write. The start a millisecond later rightly sees the agent
    // resumed and issues; the model counted the suspension until the resume's redelivery.
    const schedule: Schedule = {
      ...calm,
      steps: [
        { op: 'end', agent: 0, task: 0, delay: 0 },
        { op: 'start', agent: 1, task: 0, scopes: 0, ttl: 301, delay: 1 },
        { op: 'suspend', agent: 1 },
        { op: 'wait', ms: 0 },
        { op: 'approve', agent: 0, task: 0, person: 0, delay: 0 },
        { op: 'duplicate', of: 4, delay: 0 },
        { op: 'resume', agent: 1 },
      ],
      faults: [{ at: 9, kind: 'crash-before' }],
      outage: 'aws-iam-access-key',
    };

    expect(await brokenBy(schedule)).toEqual([]);
  });

  it('a Task Ended that claims a grant between its opening and its issue leaves the credential the start made dead', async () => {
    // Found when the slot, the grant and the standing check became one transaction: the start
    // reaches its issue sooner, so the end's claim lands between the two. The issuer's `active`
    // write then fails and it revokes what it made.
    const schedule: Schedule = {
      ...calm,
      steps: [
        { op: 'start', agent: 0, task: 3, scopes: 0, ttl: 60, delay: 0 },
        { op: 'end', agent: 0, task: 3, delay: 0 },
        { op: 'burst', agent: 0, count: 2, ttl: 60 },
      ],
    };

    expect(await brokenBy(schedule)).toEqual([]);
  });

  it('a restart on a policy that narrowed a scope under its name leaves no credential it withdrew alive until its TTL', async () => {
    // Before session 9 a scope was judged by its name only: repo-write's session, issued for the
    // old repository, lived its 400 s. The grant of repo-read, only widened, is kept.
    const schedule: Schedule = {
      ...calm,
      steps: [
        { op: 'start', agent: 0, task: 0, scopes: 3, ttl: 400, delay: 0 },
        { op: 'start', agent: 1, task: 1, scopes: 0, ttl: 400, delay: 0 },
        { op: 'wait', ms: 5_000 },
        { op: 'policy' },
        { op: 'start', agent: 0, task: 2, scopes: 3, ttl: 400, delay: 0 },
        { op: 'wait', ms: 5_000 },
      ],
    };

    expect(await brokenBy(schedule)).toEqual([]);
  });
});

describe('fault schedules that once broke a promise on the DynamoDB store over dynalite', () => {
  const dynamo = useEmbeddedStore();

  async function brokenOnDynalite(schedule: Schedule): Promise<readonly string[]> {
    const tableName = dynamo.freshTableName();
    await ensureGrantTable(dynamo.client, tableName);
    const store = new DynamoDbGrantStore({ client: dynamo.client, tableName, dueTiming: FAULT_TIMING, dueShards: 2 });
    const run = await runSchedule(schedule, store, async () => ({ grants: [...(await store.listGrants())], rejectedExcerpts: [] }));
    return run.broken;
  }

  it('a suspension that revokes a grant while its delivery is written leaves no credential in the delivery', async () => {
    // Found by the faults tier (seed -1247935206): the revoker deleted the delivery before the
    // issuer's preparation created it, so the value the issuer wrote next stayed, holding the (dead) credential.
    const schedule: Schedule = {
      ...calm,
      steps: [
        { op: 'start', agent: 0, task: 0, scopes: 0, ttl: 60, delay: 0 },
        { op: 'suspend', agent: 0 },
        { op: 'leak', agent: 0, task: 0, by: 'key' },
      ],
    };

    expect(await brokenOnDynalite(schedule)).toEqual([]);
  });
});
