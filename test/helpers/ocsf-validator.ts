// Test helpers: checks an OCSF event against the class definitions it claims, distilled from the
// OCSF schema (test/fixtures/ocsf/ocsf-classes.json): required attributes, attribute names,
// types, enum values, uids, and the required attributes and constraints of the objects it holds.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface AttributeDefinition {
  readonly requirement: 'required' | 'recommended' | 'optional';
  readonly type: string;
  readonly is_array?: boolean;
  readonly enum?: readonly string[];
}

interface ClassDefinition {
  readonly caption: string;
  readonly uid: number;
  readonly category_uid: number;
  readonly attributes: Readonly<Record<string, AttributeDefinition>>;
}

interface ObjectDefinition {
  readonly required: Readonly<Record<string, string>>;
  readonly constraints?: { readonly at_least_one?: readonly string[] };
}

interface Schema {
  readonly version: string;
  readonly classes: Readonly<Record<string, ClassDefinition>>;
  readonly objects: Readonly<Record<string, ObjectDefinition>>;
}

export const OCSF_SCHEMA: Schema = JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/ocsf/ocsf-classes.json'), 'utf8'));

const INTEGER_TYPES = new Set(['integer_t', 'long_t', 'timestamp_t', 'port_t']);

function typeProblem(path: string, type: string, value: unknown): string | undefined {
  if (INTEGER_TYPES.has(type))
    return Number.isInteger(value) ? undefined : `${path}: ${type} must be an integer, got ${JSON.stringify(value)}`;
  if (type === 'float_t') return typeof value === 'number' ? undefined : `${path}: float_t must be a number`;
  if (type === 'boolean_t') return typeof value === 'boolean' ? undefined : `${path}: boolean_t must be a boolean`;
  if (type === 'json_t') return undefined;
  if (type.endsWith('_t')) return typeof value === 'string' ? undefined : `${path}: ${type} must be a string, got ${JSON.stringify(value)}`;
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? undefined : `${path}: ${type} must be an object`;
}

function objectProblems(path: string, type: string, value: Record<string, unknown>): string[] {
  const definition = OCSF_SCHEMA.objects[type];
  if (!definition) return [];
  const problems = Object.entries(definition.required).flatMap(([name, nestedType]) => {
    if (value[name] === undefined) return [`${path}.${name}: required by the ${type} object`];
    const problem = typeProblem(`${path}.${name}`, nestedType, value[name]);
    if (problem) return [problem];
    return nestedType.endsWith('_t') ? [] : objectProblems(`${path}.${name}`, nestedType, value[name] as Record<string, unknown>);
  });
  const atLeastOne = definition.constraints?.at_least_one;
  if (atLeastOne && !atLeastOne.some((name) => value[name] !== undefined))
    problems.push(`${path}: the ${type} object needs at least one of ${atLeastOne.join(', ')}`);
  return problems;
}

/** Every way `event` departs from the OCSF class its `class_uid` names; empty when it conforms. */
export function ocsfProblems(event: Record<string, unknown>): string[] {
  const definition = Object.values(OCSF_SCHEMA.classes).find((candidate) => candidate.uid === event.class_uid);
  if (!definition) return [`class_uid ${String(event.class_uid)} is not one of the classes checked here`];
  const problems: string[] = [];
  for (const [name, attribute] of Object.entries(definition.attributes)) {
    if (attribute.requirement === 'required' && event[name] === undefined) problems.push(`${name}: required by ${definition.caption}`);
  }
  for (const [name, value] of Object.entries(event)) {
    const attribute = definition.attributes[name];
    if (!attribute) {
      problems.push(`${name}: not an attribute of ${definition.caption}`);
      continue;
    }
    const values = attribute.is_array ? (Array.isArray(value) ? value : undefined) : [value];
    if (values === undefined) {
      problems.push(`${name}: must be an array`);
      continue;
    }
    for (const [index, item] of values.entries()) {
      const path = attribute.is_array ? `${name}[${index}]` : name;
      const problem = typeProblem(path, attribute.type, item);
      if (problem) problems.push(problem);
      else if (!attribute.type.endsWith('_t')) problems.push(...objectProblems(path, attribute.type, item as Record<string, unknown>));
      if (attribute.enum && !attribute.enum.includes(String(item)))
        problems.push(`${path}: ${String(item)} is not one of ${attribute.enum.join(', ')}`);
    }
  }
  if (event.category_uid !== definition.category_uid)
    problems.push(`category_uid: ${definition.caption} is in category ${definition.category_uid}`);
  if (typeof event.activity_id === 'number' && event.type_uid !== definition.uid * 100 + event.activity_id) {
    problems.push(`type_uid: must be class_uid * 100 + activity_id = ${definition.uid * 100 + event.activity_id}`);
  }
  return problems;
}
