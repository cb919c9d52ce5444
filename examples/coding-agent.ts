// Example: a TypeScript coding agent. Everything Taskbound asks of it is the one
// `withTaskCredentials` call: the task starts, the agent waits for its credential, works with it,
// and the task ends (succeeded, failed, or cancelled on Ctrl-C), so the credential dies with it.
//
//   npm start                                     # a local engine (or deploy the stack to AWS)
//   AWS_ENDPOINT_URL=http://127.0.0.1:4010 AWS_REGION=us-east-1 npx tsx examples/coding-agent.ts
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { withTaskCredentials } from '../sdk'; // in your project: from 'taskbound/sdk'

const summary = await withTaskCredentials(
  { agentId: 'release-bot', purpose: 'bump lodash to 4.17.21 in web', requestedBy: 'dev@example.com', scopes: ['repo-read'] },
  async ({ credentials, grantId, expiration, systemsTouched }) => {
    // Any AWS SDK client built with `credentials` acts as this task, and only as this task.
    const sts = new STSClient({ credentials });
    const { Arn } = await sts.send(new GetCallerIdentityCommand({}));
    systemsTouched.push('codecommit:web');
    return `working as ${Arn} (grant ${grantId}, until ${expiration?.toISOString()})`;
  },
);
console.log(summary);
console.log('task ended: the engine revokes the credential and proves it dead');
