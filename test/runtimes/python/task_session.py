"""examples/python-runtime/taskbound_task.py against the local engine: prints one JSON object per line
for test/runtimes/boto3-task-session.runtime.ts."""

import json
import os
import sys
import time
import uuid

import boto3

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../../examples/python-runtime"))
from taskbound_task import CredentialRevoked, InvalidTaskIds, TaskDenied, task_session  # noqa: E402

AGENT = "release-bot"
runtime = boto3.Session()
reads = []
runtime.events.register("before-call.secrets-manager.GetSecretValue", lambda **_: reads.append(time.monotonic()))
events = runtime.client("events")


def say(case: str, **seen) -> None:
    print(json.dumps({"case": case, **seen}), flush=True)


def announce(detail_type: str, detail: dict) -> None:
    assert events.put_events(Entries=[{"EventBusName": "taskbound", "Source": "test.python", "DetailType": detail_type,
                                       "Detail": json.dumps(detail)}])["FailedEntryCount"] == 0


def start(task_id: str, scopes: list) -> None:
    announce("Task Started", {"agentId": AGENT, "taskId": task_id, "purpose": "task session", "requestedBy": "dev@example.com", "scopes": scopes})


began = time.monotonic()
try:
    task_session(AGENT, "nightly audit/1", runtime_session=runtime)
    say("invalid task id", raised=None)
except InvalidTaskIds as error:
    say("invalid task id", raised="InvalidTaskIds", message=str(error), seconds=time.monotonic() - began)

denied = f"py-denied-{uuid.uuid4().hex[:8]}"
start(denied, ["deploy-web"])
try:
    task_session(AGENT, denied, runtime_session=runtime)
    say("denied", raised=None)
except TaskDenied as error:
    say("denied", raised="TaskDenied", reason=error.reason)

task = f"py-{uuid.uuid4().hex[:8]}"
start(task, ["repo-read"])
session = task_session(AGENT, task, runtime_session=runtime, reread_every_s=1.0)
sts = session.client("sts")
waited_reads, began = len(reads), time.monotonic()
arns = {sts.get_caller_identity()["Arn"] for _ in range(20)}
say("working", arns=sorted(arns), calls=20, seconds=time.monotonic() - began, rereads=len(reads) - waited_reads)

announce("Task Ended", {"agentId": AGENT, "taskId": task, "outcome": "succeeded"})
time.sleep(1.2)  # past the next re-read
try:
    sts.get_caller_identity()
    say("ended", raised=None)
except CredentialRevoked as error:
    say("ended", raised="CredentialRevoked", message=str(error))

# A delivery refused for a moment (created, not yet locked to this runtime: contract §5), through
# botocore's own Stubber: read as not delivered yet, then read; refused past the grace, raised.
import taskbound_task  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

stubbed = boto3.Session(region_name="us-east-1").client("secretsmanager")
with Stubber(stubbed) as stubber:
    for _ in range(2):
        stubber.add_client_error("get_secret_value", service_error_code="AccessDeniedException", http_status_code=400)
    issued = {"status": "issued", "grantId": "g-1", "scopes": ["repo-read"], "accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "x"}
    stubber.add_response("get_secret_value", {"Name": "taskbound/release-bot/locked", "SecretString": json.dumps(issued)})
    payload = taskbound_task.wait_for_delivery(stubbed, AGENT, "locked")
    say("refused, then locked", status=payload["status"], left=len(stubber._queue))

with Stubber(stubbed) as stubber:
    for _ in range(10):
        stubber.add_client_error("get_secret_value", service_error_code="AccessDeniedException", http_status_code=400)
    try:
        taskbound_task.wait_for_delivery(stubbed, AGENT, "never", absent_timeout_s=0.3)
        say("refused for good", raised=None)
    except ClientError as error:
        say("refused for good", raised=error.response["Error"]["Code"])
