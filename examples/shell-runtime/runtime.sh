#!/usr/bin/env bash
# Example: a shell agent runtime. `taskbound serve-credentials` runs the work with the AWS
# container credentials endpoint in its environment, so the AWS CLI (or any SDK) inside gets the
# task's credential; the trap ends the task however the work ends.
#
#   AWS_ENDPOINT_URL=http://127.0.0.1:4010 AWS_DEFAULT_REGION=us-east-1 examples/shell-runtime/runtime.sh
#
# From a clone, where no `taskbound` is on the PATH (and `npx taskbound` would look for a package
# of that name on the registry), name the CLI and the local engine:
#
#   TASKBOUND="npm run -s taskbound -- --endpoint http://127.0.0.1:4010" AWS_ENDPOINT_URL=… examples/shell-runtime/runtime.sh
set -euo pipefail
TASKBOUND=${TASKBOUND:-taskbound}        # e.g. "node /path/to/taskbound/dist/bin/taskbound.js --endpoint http://127.0.0.1:4010"
AGENT=release-bot
TASK="sh-$(date +%s)-$$"

$TASKBOUND emit task-started --agent "$AGENT" --task "$TASK" --purpose "nightly repo audit" \
  --requested-by dev@example.com --scopes repo-read >/dev/null
outcome=failed
trap '$TASKBOUND emit task-ended --agent "$AGENT" --task "$TASK" --outcome "$outcome" >/dev/null; echo "task $TASK ended ($outcome)"' EXIT

# The work: here one AWS CLI call (curl shows the raw endpoint when the AWS CLI is absent).
$TASKBOUND serve-credentials --agent "$AGENT" --task "$TASK" -- bash -c '
  if command -v aws >/dev/null; then
    echo "task working as $(aws sts get-caller-identity --query Arn --output text)"
  else
    curl -fsS -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI" \
      | jq -r "\"task working with access key \" + .AccessKeyId"
  fi'
outcome=succeeded
