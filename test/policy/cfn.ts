// Policy tier helper: turns the IAM documents of a synthesized CloudFormation template into
// concrete JSON an IAM evaluator can read, resolving the intrinsics CDK writes (Ref, GetAtt,
// Join, ImportValue) with a fixed account and region, as CloudFormation would at deploy time.

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';
/** The UUID CloudFormation would draw for a stack's id (AWS::StackId); names of retained resources end in its first group. */
export const STACK_UUID = '5e1f00d2-7a3b-4c8d-9e0f-123456789abc';
export const STACK_SUFFIX = STACK_UUID.split('-')[0]!;
/** The session canary of the default instance, as the stateful stack names it. */
export const CANARY_ARN_PATTERN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:taskbound-engine/canary-??????`;

type Json = unknown;
interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}
export interface CfnTemplate {
  readonly Resources: Record<string, Resource>;
  readonly Outputs?: Record<string, { readonly Value: Json; readonly Export?: { readonly Name: Json } }>;
}

/** Resolves intrinsics across the app's templates (an ImportValue finds its export in another one). */
export class CfnResolver {
  private readonly exports = new Map<string, { template: CfnTemplate; value: Json }>();

  constructor(private readonly templates: readonly CfnTemplate[]) {
    for (const template of templates) {
      for (const output of Object.values(template.Outputs ?? {})) {
        if (output.Export) this.exports.set(String(this.resolve(template, output.Export.Name)), { template, value: output.Value });
      }
    }
  }

  /** A value of `template` with every intrinsic replaced by what CloudFormation would produce. */
  resolve(template: CfnTemplate, value: Json): Json {
    if (Array.isArray(value)) return value.map((item) => this.resolve(template, item));
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value);
    const [key, argument] = entries[0] ?? [];
    if (entries.length === 1 && key === 'Ref') return this.ref(template, String(argument));
    if (entries.length === 1 && key === 'Fn::GetAtt') {
      const [logicalId, attribute] = argument as [string, string];
      return this.attribute(template, logicalId, attribute);
    }
    if (entries.length === 1 && key === 'Fn::Join') {
      const [separator, parts] = argument as [string, Json[]];
      return parts.map((part) => String(this.resolve(template, part))).join(separator);
    }
    if (entries.length === 1 && key === 'Fn::Split') {
      const [separator, source] = argument as [string, Json];
      return String(this.resolve(template, source)).split(separator);
    }
    if (entries.length === 1 && key === 'Fn::Select') {
      const [index, list] = argument as [number | string, Json];
      const items = this.resolve(template, list) as Json[];
      return items[Number(index)];
    }
    if (entries.length === 1 && key === 'Fn::ImportValue') {
      const name = String(this.resolve(template, argument));
      const found = this.exports.get(name);
      if (!found) throw new Error(`no export named ${name}`);
      return this.resolve(found.template, found.value);
    }
    if (entries.length === 1 && key?.startsWith('Fn::')) throw new Error(`unresolved intrinsic ${key}`);
    return Object.fromEntries(entries.map(([name, item]) => [name, this.resolve(template, item)]));
  }

  private resource(template: CfnTemplate, logicalId: string): Resource {
    const resource = template.Resources[logicalId];
    if (!resource) throw new Error(`no resource ${logicalId}`);
    return resource;
  }

  private ref(template: CfnTemplate, name: string): string {
    if (name === 'AWS::AccountId') return ACCOUNT;
    if (name === 'AWS::Region') return REGION;
    if (name === 'AWS::Partition') return 'aws';
    if (name === 'AWS::URLSuffix') return 'amazonaws.com';
    if (name === 'AWS::StackId') return `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/taskbound/${STACK_UUID}`;
    const resource = this.resource(template, name);
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::IAM::Role':
        return String(this.resolve(template, props.RoleName ?? name));
      case 'AWS::IAM::ManagedPolicy':
        return `arn:aws:iam::${ACCOUNT}:policy${String(props.Path ?? '/')}${name}`;
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${String(this.resolve(template, props.Name ?? name))}-AbCdEf`;
      case 'AWS::Events::EventBus':
        return String(this.resolve(template, props.Name ?? name));
      case 'AWS::Lambda::Function':
        return String(this.resolve(template, props.FunctionName ?? name));
      default:
        return name;
    }
  }

  private attribute(template: CfnTemplate, logicalId: string, attribute: string): string {
    const resource = this.resource(template, logicalId);
    const props = resource.Properties ?? {};
    const named = (key: string) => String(this.resolve(template, props[key] ?? logicalId));
    const arn: Record<string, () => string> = {
      'AWS::IAM::Role': () => `arn:aws:iam::${ACCOUNT}:role${String(props.Path ?? '/')}${named('RoleName')}`,
      'AWS::Events::EventBus': () => `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${named('Name')}`,
      'AWS::KMS::Key': () => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${logicalId}`,
      'AWS::DynamoDB::GlobalTable': () => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${named('TableName')}`,
      'AWS::DynamoDB::Table': () => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${named('TableName')}`,
      'AWS::SQS::Queue': () => `arn:aws:sqs:${REGION}:${ACCOUNT}:${logicalId}`,
      'AWS::Logs::LogGroup': () => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${named('LogGroupName')}:*`,
      'AWS::Lambda::Function': () => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${named('FunctionName')}`,
      'AWS::Scheduler::ScheduleGroup': () => `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${named('Name')}`,
      'AWS::SNS::Topic': () => `arn:aws:sns:${REGION}:${ACCOUNT}:${logicalId}`,
    };
    if (attribute === 'Arn' && arn[resource.Type]) return arn[resource.Type]!();
    if (attribute === 'StreamArn') return `${arn[resource.Type]!()}/stream/2026-11-30T00:00:00.000`;
    if (attribute === 'Name') return named('Name');
    throw new Error(`no resolution for ${resource.Type}.${attribute}`);
  }
}
