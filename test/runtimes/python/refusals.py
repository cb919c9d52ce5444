"""What a boto3 runtime sees of each refusal, following only the README and docs/contract.md §5-6.

Prints one JSON object per line: {"case": ..., ...}; test/runtimes/boto3-refusals.runtime.ts reads them.
Environment: AWS_ENDPOINT_URL (the local engine), AWS_DEFAULT_REGION, placeholder runtime keys.
"""

import json
import time
import uuid

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

AGENT = "release-bot"
events = boto3.client("events")
secrets = boto3.client("secretsmanager")


def say(case: str, **seen) -> None:
    print(json.dumps({"case": case, **seen}), flush=True)


def announce(detail_type: str, detail: dict) -> None:
    answer = events.put_events(Entries=[{"EventBusName": "taskbound", "Source": "test.python", "DetailType": detail_type, "Detail": json.dumps(detail)}])
    assert answer["FailedEntryCount"] == 0, answer


def delivery(task_id: str, within_s: float = 5.0) -> dict:
    """Polls taskbound/<agent>/<task> as §5 says, until it is decided; elapsed seconds in `_waited`."""
    started = time.monotonic()
    while True:
        try:
            value = json.loads(secrets.get_secret_value(SecretId=f"taskbound/{AGENT}/{task_id}")["SecretString"])
            if value["status"] != "pending_approval":
                return {**value, "_waited": time.monotonic() - started}
        except ClientError as error:
            code = error.response["Error"]["Code"]
            # Refused until the delivery is locked to this runtime (contract §5); refused to the end, it is our permissions.
            refused = error if code == "AccessDeniedException" else None
            if refused is None and code != "ResourceNotFoundException":
                raise
        else:
            refused = None
        if time.monotonic() - started > within_s:
            if refused is not None:
                raise refused
            return {"status": "absent", "_waited": time.monotonic() - started}
        time.sleep(0.1)


def refusal(call) -> dict:
    try:
        call()
        return {"code": "ok"}
    except ClientError as error:
        return {"code": error.response["Error"]["Code"], "message": error.response["Error"]["Message"],
                "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}


def start(task_id: str, **extra) -> None:
    announce("Task Started", {"agentId": AGENT, "taskId": task_id, "purpose": "rehearse refusals",
                              "requestedBy": "dev@example.com", "scopes": ["repo-read"], **extra})


# A Task Started the engine cannot accept: the runtime reads why, at once.
bad = f"py-bad-{uuid.uuid4().hex[:8]}"
start(bad, ttlSeconds=99_999)
seen = delivery(bad)
say("invalid start", status=seen["status"], reason=seen.get("reason"), waited=seen["_waited"])

# A task: a call its scope allows, one it does not, and one to a service the local engine does not emulate.
task = f"py-{uuid.uuid4().hex[:8]}"
start(task)
seen = delivery(task)
session = boto3.Session(aws_access_key_id=seen["accessKeyId"], aws_secret_access_key=seen["secretAccessKey"],
                        aws_session_token=seen["sessionToken"])
config = Config(retries={"mode": "standard"})
sts = session.client("sts", config=config)
say("allowed", arn=sts.get_caller_identity()["Arn"], grantId=seen["grantId"])
say("not allowed", **refusal(lambda: session.client("secretsmanager", config=config).list_secrets()))
say("not emulated", **refusal(lambda: session.client("s3", config=config).list_buckets()))

# Ended: the credential is refused, and the delivery is gone.
announce("Task Ended", {"agentId": AGENT, "taskId": task, "outcome": "succeeded"})
deadline = time.monotonic() + 5
after = refusal(sts.get_caller_identity)
while after["code"] == "ok" and time.monotonic() < deadline:
    time.sleep(0.02)
    after = refusal(sts.get_caller_identity)
# The engine deletes the delivery once it has proven the credential dead, just after STS refuses it.
read_delivery = lambda: refusal(lambda: secrets.get_secret_value(SecretId=f"taskbound/{AGENT}/{task}"))["code"]
gone = read_delivery()
while gone == "ok" and time.monotonic() < deadline:
    time.sleep(0.02)
    gone = read_delivery()
say("ended", **after, delivery=gone)

# An unsigned STS call (botocore's UNSIGNED): a named error botocore parses, not an unparseable body.
unsigned = boto3.client("sts", config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
say("unsigned sts", **refusal(unsigned.get_caller_identity))

# A Task Ended with an outcome the contract does not name still ends the task: the credential dies.
sloppy = f"py-sloppy-{uuid.uuid4().hex[:8]}"
start(sloppy)
seen = delivery(sloppy)
sloppy_sts = boto3.client("sts", aws_access_key_id=seen["accessKeyId"], aws_secret_access_key=seen["secretAccessKey"],
                          aws_session_token=seen["sessionToken"], config=config)
announce("Task Ended", {"agentId": AGENT, "taskId": sloppy, "outcome": "done"})
deadline = time.monotonic() + 5
after = refusal(sloppy_sts.get_caller_identity)
while after["code"] == "ok" and time.monotonic() < deadline:
    time.sleep(0.02)
    after = refusal(sloppy_sts.get_caller_identity)
say("ended with a bad outcome", **after)
