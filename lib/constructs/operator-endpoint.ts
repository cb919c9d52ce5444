// CDK construct: the operator endpoint, a Lambda function URL with AuthType AWS_IAM through which
// people approve, deny and resume (handlers/operator-api.ts maps the caller to a person of the
// policy). Closed by default: with no operator principals there is no function and no URL, and
// synth warns that decisions are Slack-only.
import { Annotations, CfnOutput } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { TaskboundFunction } from './taskbound-function';

export interface OperatorEndpointProps {
  /** The IAM roles and users allowed to call the URL (config `operatorPrincipalArns`). */
  readonly operatorPrincipalArns: readonly string[];
  /** Builds the `operator-api` function with its own permissions; called only when the endpoint is open to someone. */
  readonly makeFunction: () => TaskboundFunction;
}

export const OPERATOR_ENDPOINT_CLOSED =
  'No operatorPrincipalArns are configured: no operator endpoint is deployed, so approvals, denials and resumes are Slack-only. ' +
  'Set taskbound.operatorPrincipalArns to the IAM roles or users of the people in the policy to open it.';

/** The function and its IAM-authenticated URL, invocable only by the configured principals. */
export class OperatorEndpoint extends Construct {
  readonly function?: TaskboundFunction;
  readonly url?: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: OperatorEndpointProps) {
    super(scope, id);
    if (props.operatorPrincipalArns.length === 0) {
      Annotations.of(this).addWarningV2('taskbound:operator-endpoint-closed', OPERATOR_ENDPOINT_CLOSED);
      return;
    }
    const fn = props.makeFunction();
    const url = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    // Since October 2025 a new function URL needs both actions; InvokeFunction only through the URL.
    props.operatorPrincipalArns.forEach((arn, index) => {
      const principal = new iam.ArnPrincipal(arn);
      fn.addPermission(`OperatorInvokeUrl${index}`, {
        principal,
        action: 'lambda:InvokeFunctionUrl',
        functionUrlAuthType: lambda.FunctionUrlAuthType.AWS_IAM,
      });
      fn.addPermission(`OperatorInvoke${index}`, { principal, action: 'lambda:InvokeFunction', invokedViaFunctionUrl: true });
    });
    new CfnOutput(this, 'OperatorUrl', {
      key: 'OperatorUrl',
      value: url.url,
      description: 'The operator endpoint: taskbound approve|deny|resume --operator-url <this>',
    });
    this.function = fn;
    this.url = url;
  }
}
