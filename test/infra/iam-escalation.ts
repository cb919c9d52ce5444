// Test helper: finds IAM statements in a CloudFormation template that would let an engine
// role grant itself (or anyone) more than it has: the "no path to privilege escalation" rule.

type Json = unknown;
export interface Statement {
  readonly Effect?: string;
  readonly Action?: Json;
  readonly NotAction?: Json;
  readonly Resource?: Json;
  readonly NotResource?: Json;
  readonly Condition?: Record<string, Record<string, Json>>;
  readonly Sid?: string;
}

/** IAM actions that let a principal widen permissions or take over an identity; never allowed. */
const FORBIDDEN = new Set(
  [
    'iam:CreatePolicy',
    'iam:CreatePolicyVersion',
    'iam:SetDefaultPolicyVersion',
    'iam:AttachUserPolicy',
    'iam:AttachRolePolicy',
    'iam:AttachGroupPolicy',
    'iam:PutGroupPolicy',
    'iam:CreateRole',
    'iam:UpdateAssumeRolePolicy',
    'iam:PutRolePermissionsBoundary',
    'iam:DeleteRolePermissionsBoundary',
    'iam:PutUserPermissionsBoundary',
    'iam:DeleteUserPermissionsBoundary',
    'iam:CreateLoginProfile',
    'iam:UpdateLoginProfile',
    'iam:AddUserToGroup',
    'iam:DeletePolicy',
    'iam:DeletePolicyVersion',
    'lambda:UpdateFunctionCode',
    'lambda:CreateFunction',
    'lambda:AddPermission',
    'kms:PutKeyPolicy',
    'kms:CreateGrant',
  ].map((action) => action.toLowerCase()),
);
/** Read-only or resource-less actions AWS offers no narrower form of. */
const ANY_RESOURCE_ALLOWED = new Set([
  'xray:puttracesegments',
  'xray:puttelemetryrecords',
  'secretsmanager:listsecrets',
  // Wildcard-only (iam-data); it returns only secrets the caller may also GetSecretValue on.
  'secretsmanager:batchgetsecretvalue',
  'dynamodb:liststreams',
  'iam:listusers',
  'cloudtrail:lookupevents',
]);

const list = (value: Json): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const condition = (statement: Statement, operator: string, key: string): Json => statement.Condition?.[operator]?.[key];

/** Every problem in one Allow statement, in words. */
export function escalationFindings(statement: Statement): string[] {
  if (statement.Effect !== 'Allow') return [];
  const where = statement.Sid ?? JSON.stringify(statement.Action);
  const findings: string[] = [];
  if (statement.NotAction !== undefined || statement.NotResource !== undefined)
    findings.push(`${where}: NotAction/NotResource allow more than they name`);
  const actions = list(statement.Action).map((action) => (typeof action === 'string' ? action.toLowerCase() : JSON.stringify(action)));
  const resources = list(statement.Resource);
  for (const action of actions) {
    if (action.includes('*')) findings.push(`${where}: wildcard action ${action}`);
    if (FORBIDDEN.has(action)) findings.push(`${where}: escalation action ${action}`);
    if (
      ['iam:createuser', 'iam:putuserpolicy', 'iam:putrolepolicy'].includes(action) &&
      condition(statement, 'StringEquals', 'iam:PermissionsBoundary') === undefined
    ) {
      findings.push(`${where}: ${action} without an iam:PermissionsBoundary condition`);
    }
    if (action === 'iam:passrole' && condition(statement, 'StringEquals', 'iam:PassedToService') === undefined) {
      findings.push(`${where}: iam:PassRole without an iam:PassedToService condition`);
    }
    if (
      action === 'sts:assumerole' &&
      !Object.keys(statement.Condition?.StringEquals ?? {}).some((key) => key.startsWith('aws:ResourceTag/'))
    ) {
      findings.push(`${where}: sts:AssumeRole without a role tag condition`);
    }
    if (resources.includes('*') && !ANY_RESOURCE_ALLOWED.has(action)) findings.push(`${where}: ${action} on every resource`);
  }
  return findings;
}

/** Statements attached to roles in a template: inline role policies, AWS::IAM::Policy, attached managed policies. */
export function roleStatements(template: { Resources?: Record<string, { Type: string; Properties?: Record<string, Json> }> }): Statement[] {
  const statements: Statement[] = [];
  const fromDocument = (document: Json) => statements.push(...(list((document as { Statement?: Json })?.Statement) as Statement[]));
  for (const resource of Object.values(template.Resources ?? {})) {
    const properties = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Role')
      for (const policy of list(properties.Policies)) fromDocument((policy as { PolicyDocument: Json }).PolicyDocument);
    if (resource.Type === 'AWS::IAM::Policy') fromDocument(properties.PolicyDocument);
    if (resource.Type === 'AWS::IAM::ManagedPolicy' && list(properties.Roles).length > 0) fromDocument(properties.PolicyDocument);
  }
  return statements;
}
