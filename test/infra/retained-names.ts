// Test helper: the resources of a template that CloudFormation keeps on delete (DeletionPolicy
// or UpdateReplacePolicy Retain) under a name written as a plain string: each would block the
// next deploy of the same stack with "already exists".
type Resource = {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
};

/** A physical name property: `Name`, `TableName`, `LogGroupName`, ... (`*Name` at the top of Properties). */
const isNameProperty = (key: string) => key === 'Name' || /^[A-Z][A-Za-z]*Name$/.test(key);

/** `<logical id>.<property> = <name>` for each retained resource with a fixed name. */
export function retainedFixedNames(template: { readonly Resources?: Record<string, Resource> }): string[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.DeletionPolicy === 'Retain' || resource.UpdateReplacePolicy === 'Retain')
    .flatMap(([id, resource]) =>
      Object.entries(resource.Properties ?? {})
        .filter(([key, value]) => isNameProperty(key) && typeof value === 'string')
        .map(([key, value]) => `${id}.${key} = ${String(value)}`),
    );
}
