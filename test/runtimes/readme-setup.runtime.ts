// README, "Point an agent runtime at the local engine": its `export` lines, taken as written, are all
// the configuration a boto3 runtime gets here, with none of this machine's AWS settings. They once
// set only AWS_REGION, which boto3 does not read: a Python user stopped at NoRegionError.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../e2e/local-engine';
import { REPO, run } from './processes';

/** The README's `export …` lines of that section, pointed at this engine's port instead of 4010. */
function readmeExports(port: number): string {
  const readme = readFileSync(resolve(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Point an agent runtime at the local engine'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const exports = block.split('\n').filter((line) => line.startsWith('export '));
  return exports.map((line) => line.replace(/#.*$/, '').replaceAll(':4010', `:${port}`)).join('\n');
}

const BOTO3_RUNTIME = `
import json, time, uuid, boto3
from botocore.exceptions import ClientError
task = "readme-" + uuid.uuid4().hex[:8]
answer = boto3.client("events").put_events(Entries=[{"EventBusName": "taskbound", "Source": "readme", "DetailType": "Task Started",
    "Detail": json.dumps({"agentId": "release-bot", "taskId": task, "purpose": "follow the README", "requestedBy": "dev@example.com", "scopes": ["repo-read"]})}])
assert answer["FailedEntryCount"] == 0, answer
for _ in range(50):
    try:
        print(json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=f"taskbound/release-bot/{task}")["SecretString"])["status"])
        break
    except ClientError as error:
        # Absent yet, or for a moment refused: created, not yet locked to this runtime (docs/contract.md §5).
        if error.response["Error"]["Code"] not in ("ResourceNotFoundException", "AccessDeniedException"):
            raise
        time.sleep(0.1)
`;

describe("the README's environment for a runtime, as a boto3 user copies it", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('is enough for boto3 to announce a task and read its issued delivery', async () => {
    const exports = readmeExports(Number(new URL(h.engine.url).port));
    expect(exports).toContain('AWS_ENDPOINT_URL=');
    const bare = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));

    const finished = await run('bash', ['-c', `${exports}\nexec python3 -c '${BOTO3_RUNTIME}'`], {
      env: { ...bare, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
    });

    expect(finished.stderr).toBe('');
    expect(finished.stdout.trim()).toBe('issued');
  });
});
