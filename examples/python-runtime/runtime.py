"""Example: a Python agent runtime using boto3 through `credential_process`.

The runtime announces its task with its own identity, then works through the profile
`taskbound-task`, whose one line runs `taskbound credentials`; the task id travels in the
environment, so one profile serves every task. When the work is done (or fails), it ends the
task, and the engine revokes the credential.

    # ~/.aws/config
    [profile taskbound-task]
    credential_process = taskbound credentials --agent release-bot

    AWS_ENDPOINT_URL=http://127.0.0.1:4010 AWS_DEFAULT_REGION=us-east-1 python3 examples/python-runtime/runtime.py

Against the local engine from a clone: the profile line names the CLI and the engine,
`credential_process = node /path/to/taskbound/dist/bin/taskbound.js credentials --agent release-bot
--endpoint http://127.0.0.1:4010` (after `npm run build`), and the runtime's own identity (which sends
the events) is any key pair: `AWS_ACCESS_KEY_ID=AKIALOCALRUNTIME0000 AWS_SECRET_ACCESS_KEY=anything`
(without one, boto3 stops at `NoCredentialsError` before it announces the task).

The profile is one line and needs nothing in Python, but botocore re-runs a credential process
before every call once the credential expires within 15 minutes (a default task's does from the
start): each boto3 call then starts a `taskbound credentials` process (about 1 s from a clone).
A runtime making many calls uses `taskbound_task.task_session` instead (one GetSecretValue every 30 s).
"""

import json
import os
import uuid

import boto3
from botocore.exceptions import ClientError

AGENT_ID = "release-bot"
BUS = os.environ.get("TASKBOUND_BUS", "taskbound")


def announce(events, detail_type: str, detail: dict) -> None:
    answer = events.put_events(Entries=[{"EventBusName": BUS, "Source": "example.python-runtime", "DetailType": detail_type, "Detail": json.dumps(detail)}])
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"PutEvents refused {detail_type}: {answer['Entries'][0].get('ErrorCode')}")


def main() -> None:
    task_id = f"py-{uuid.uuid4()}"
    events = boto3.client("events")  # the runtime's own identity
    announce(events, "Task Started", {"agentId": AGENT_ID, "taskId": task_id, "purpose": "nightly dependency audit",
                                      "requestedBy": "dev@example.com", "scopes": ["repo-read"]})
    os.environ["TASKBOUND_TASK_ID"] = task_id  # read by `taskbound credentials` in the profile
    outcome = "failed"
    try:
        task = boto3.Session(profile_name=os.environ.get("TASKBOUND_PROFILE", "taskbound-task"))
        arn = task.client("sts").get_caller_identity()["Arn"]
        print(f"task {task_id} working as {arn}", flush=True)
        try:  # outside the task's scopes (repo-read): refused, on AWS and locally alike
            task.client("secretsmanager").list_secrets()
        except ClientError as error:
            print(f"task {task_id} refused {error.operation_name}: {error.response['Error']['Code']}", flush=True)
        outcome = "succeeded"
    finally:
        announce(events, "Task Ended", {"agentId": AGENT_ID, "taskId": task_id, "outcome": outcome})
        print(f"task {task_id} ended ({outcome})", flush=True)


if __name__ == "__main__":
    main()
