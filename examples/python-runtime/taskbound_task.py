"""Taskbound for boto3 without the CLI: a boto3 Session holding one task's credential.

Reads the delivery secret `taskbound/<agentId>/<taskId>` (docs/contract.md §5) with the runtime's own
identity, waiting while the engine decides (and while people approve), then hands boto3 credentials
that re-read the delivery at most every `reread_every_s` seconds and raise `CredentialRevoked` once
it is gone (the task ended, the credential leaked, the agent was suspended) or expired.

Why not `credential_process`: botocore re-runs a credential process before every call once the
credential is within 15 minutes of its expiry, and a task's credential lives 15 minutes or less by
default, so each boto3 call would start a `taskbound credentials` process. Here a refresh is one
GetSecretValue, and only every `reread_every_s`.

    session = task_session("release-bot", task_id)          # after sending Task Started
    session.client("s3").list_objects_v2(Bucket="...")      # as the task
"""

import json
import random
import re
import time
from datetime import datetime, timedelta, timezone

import boto3
from botocore.credentials import CredentialProvider, RefreshableCredentials
from botocore.exceptions import ClientError
from botocore.session import Session as BotocoreSession


class TaskDenied(Exception):
    """The engine refused the task; `reason` says why (e.g. a scope the agent may not hold)."""

    def __init__(self, reason: str):
        super().__init__(f"denied: {reason}")
        self.reason = reason


class WaitTimedOut(Exception):
    """No decided delivery in time: `last_status` is `absent` (an unknown agent, a reused task id) or `pending_approval`."""

    def __init__(self, last_status: str, waited_s: float):
        super().__init__(f"timed out: no credential after {waited_s:.0f} s (last seen: {last_status})")
        self.last_status = last_status


class CredentialRevoked(Exception):
    """The task's credential is dead: revoked (its delivery is gone) or expired."""


class InvalidTaskIds(ValueError):
    """An agent or task id the engine refuses without delivering anything (docs/contract.md §1): raised before any wait."""


# The engine's own patterns (lambdas/domain/ids.ts). A Task Started naming other ids is refused with no
# delivery to read, so a runtime polling for one would only learn it after its 60 s timeout.
AGENT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
TASK_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def check_ids(agent_id: str, task_id: str) -> None:
    """Raises InvalidTaskIds unless the engine would accept both ids; call it before sending Task Started too."""
    if not AGENT_ID.fullmatch(agent_id):
        raise InvalidTaskIds(f"agentId {agent_id!r} must be lower-case letters, digits and dashes (1-63, not starting with a dash)")
    if not TASK_ID.fullmatch(task_id):
        raise InvalidTaskIds(f"taskId {task_id!r} must be 1-128 of A-Za-z0-9._:- (no spaces, slashes or other characters)")


def delivery_name(agent_id: str, task_id: str) -> str:
    return f"taskbound/{agent_id}/{task_id.replace(':', '@')}"  # a task id's ':' is written '@' (contract §5)


def _read(secrets, name: str, refusals: list = None):
    """The delivery, or None. With `refusals`, AccessDenied reads as None too and is kept there (contract §5)."""
    try:
        payload = json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "ResourceNotFoundException":
            return None
        # A runtime the resource policy alone admits is refused until the delivery exists and is
        # locked to it, however long the issue takes; for the whole wait, it is our permissions.
        if code == "AccessDeniedException" and refusals is not None:
            refusals[:] = [error]
            return None
        raise
    if refusals:
        refusals.clear()
    return payload


def wait_for_delivery(secrets, agent_id: str, task_id: str, *, absent_timeout_s: float = 60.0, total_timeout_s: float = 900.0) -> dict:
    """The issued delivery; first read after 0.1 s, then backing off (with jitter) to 2 s apart, 10 s while people approve."""
    name, started, delay, status, refusals = delivery_name(agent_id, task_id), time.monotonic(), 0.1, "absent", []
    while True:
        time.sleep(delay * random.uniform(0.8, 1.2))
        payload = _read(secrets, name, refusals)
        status = payload["status"] if payload else "absent"
        if status == "issued":
            return payload
        if status == "denied":
            raise TaskDenied(payload.get("reason", "no reason given"))
        waited = time.monotonic() - started
        if waited > (absent_timeout_s if status == "absent" else total_timeout_s):
            if refusals:  # refused to the end: this runtime is not the agent's runtimePrincipal
                raise refusals[0]
            raise WaitTimedOut(status, waited)
        delay = min(delay * 2, 10.0 if status == "pending_approval" else 2.0)


def task_session(agent_id: str, task_id: str, *, runtime_session: boto3.Session = None, reread_every_s: float = 30.0, **wait) -> boto3.Session:
    """A boto3 Session acting as the task, once its credential is issued (raises InvalidTaskIds, TaskDenied or WaitTimedOut)."""
    check_ids(agent_id, task_id)
    runtime = runtime_session or boto3.Session()
    secrets = runtime.client("secretsmanager")
    name = delivery_name(agent_id, task_id)

    def metadata(payload: dict) -> dict:
        expires = datetime.fromisoformat(payload["expiration"].replace("Z", "+00:00"))
        if expires <= datetime.now(timezone.utc):
            raise CredentialRevoked(f"expired: the credential of {agent_id}/{task_id} expired at {payload['expiration']}")
        # botocore refreshes once this passes: the next re-read of the delivery, or the real expiry if sooner.
        reread_at = min(expires, datetime.now(timezone.utc) + timedelta(seconds=reread_every_s))
        return {"access_key": payload["accessKeyId"], "secret_key": payload["secretAccessKey"],
                "token": payload.get("sessionToken"), "expiry_time": reread_at.isoformat()}

    def refresh() -> dict:
        payload = _read(secrets, name)
        if not payload or payload["status"] != "issued":
            # The engine revokes at the task's deadline too: past it, the delivery is gone because the task's time ran out.
            if datetime.fromisoformat(first["expiration"].replace("Z", "+00:00")) <= datetime.now(timezone.utc):
                raise CredentialRevoked(f"expired: the task {agent_id}/{task_id} reached its deadline {first['expiration']}")
            raise CredentialRevoked(f"revoked: the credential of {agent_id}/{task_id} was revoked (its delivery is gone)")
        return metadata(payload)

    first = wait_for_delivery(secrets, agent_id, task_id, **wait)
    # No advisory window: refresh only when the re-read is due (botocore's default would refresh 15 minutes early, i.e. always).
    credentials = RefreshableCredentials.create_from_metadata(metadata(first), refresh, "taskbound-delivery",
                                                              advisory_timeout=0, mandatory_timeout=0)
    core = BotocoreSession()
    core.get_component("credential_provider").insert_before("env", _Provided(credentials))
    return boto3.Session(botocore_session=core, region_name=runtime.region_name)


class _Provided(CredentialProvider):
    """First in the session's chain, so no environment variable or profile can win over the task's credential."""

    METHOD = CANONICAL_NAME = "taskbound-delivery"

    def __init__(self, credentials: RefreshableCredentials):
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials
