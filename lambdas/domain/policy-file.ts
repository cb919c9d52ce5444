// Domain: reading the policy file (docs/contract.md §4) from its YAML text. Kept apart from the
// schema so Lambda bundles, which get the document compiled in, carry no YAML parser.
import { parseDocument } from 'yaml';
import { PolicyError } from './errors';
import { policyFromDocument, policyVersionOf, type Policy } from './policy';
import { DECEPTIVE, UNSAFE_TEXT } from './text';

/** Far more than any real policy: a bigger file is a mistake or an attack on the parser. */
const MAX_POLICY_BYTES = 1_000_000;
/** A policy nests a handful of levels; the YAML parser's recursion is no place to find the limit. */
const MAX_FLOW_DEPTH = 64;
/** YAML aliases expand; a few suffice for any real policy, many are a "billion laughs". */
const MAX_ALIASES = 100;

/** Parses and validates a policy file's text. Throws PolicyError naming file, path and problem. */
export function parsePolicy(text: string, file: string): Policy {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_POLICY_BYTES)
    throw new PolicyError(file, [`(file): ${bytes} bytes, more than the ${MAX_POLICY_BYTES} a policy may have`]);
  const depth = flowDepth(text);
  if (depth > MAX_FLOW_DEPTH)
    throw new PolicyError(file, [`(file): brackets nested ${depth} deep, more than the ${MAX_FLOW_DEPTH} a policy may have`]);
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new PolicyError(
      file,
      document.errors.map((error) => yamlProblem(error.message)),
    );
  }
  let plain: unknown;
  let tree: unknown;
  try {
    // As Maps too: a `__proto__` key survives there, where a plain object would swallow it.
    tree = document.toJS({ mapAsMap: true, maxAliasCount: MAX_ALIASES });
    plain = document.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    throw new PolicyError(file, [`YAML: ${error instanceof Error ? error.message : 'unreadable'}`]);
  }
  // Said plainly: zod's "expected object, received null" does not tell you the file has nothing in it.
  if (plain === null || plain === undefined)
    throw new PolicyError(file, [
      '(file): the file is empty (or only comments): a policy needs version, approvals, people, scopes and agents',
    ]);
  const unsafe = unsafeText(tree, []);
  if (unsafe.length > 0) throw new PolicyError(file, unsafe.slice(0, 10));
  // YAML 1.2 has no merge keys, so `<<` would be an unknown key and every key it meant to bring
  // a "required, not given" of its own: one line saying so instead.
  const merges = mergeKeys(tree, []);
  if (merges.length > 0) throw new PolicyError(file, merges.slice(0, 10));
  return policyFromDocument(plain, file, policyVersionOf(text));
}

/** The parser's code frame is cut to one line; the source line it points at says which key or item is meant. */
const SHOWN_SOURCE_CHARS = 80;

/** `YAML: <what> at line L, column C (near "<the line>")`, from the parser's pretty error and its code frame. */
function yamlProblem(message: string): string {
  const [first = '', ...frame] = message.split('\n');
  const caret = frame.findIndex((line) => /^\s*\^+\s*$/.test(line));
  // Shown to a terminal and logged: no control or invisible characters from the file itself.
  const source = caret > 0 ? frame[caret - 1]!.trim().replace(/\p{C}/gu, '?').slice(0, SHOWN_SOURCE_CHARS) : '';
  return `YAML: ${first.replace(/:\s*$/, '')}${source ? ` (near "${source}")` : ''}`;
}

/** The deepest nesting of `[` and `{` (quotes not considered: a policy has no need for either in depth). */
function flowDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (const char of text) {
    if (char === '[' || char === '{') deepest = Math.max(deepest, ++depth);
    else if ((char === ']' || char === '}') && depth > 0) depth--;
  }
  return deepest;
}

/** Every `<<` key: a merge key, which this reader does not expand. */
function mergeKeys(node: unknown, path: readonly string[]): string[] {
  if (Array.isArray(node)) return node.flatMap((item, index) => mergeKeys(item, [...path, String(index)]));
  if (!(node instanceof Map)) return [];
  return [...node.entries()].flatMap(([key, value]) =>
    String(key) === '<<'
      ? [
          `${[...path, '<<'].join('.')}: YAML merge keys (<<) are not supported; write the keys out (an alias of a whole value, such as scopes: *common, works)`,
        ]
      : mergeKeys(value, [...path, String(key)]),
  );
}

/** Keys and strings no policy needs: `__proto__`, control, invisible or direction-changing characters. */
function unsafeText(node: unknown, path: readonly string[]): string[] {
  const at = (parts: readonly string[]) => (parts.length === 0 ? '(top level)' : parts.join('.'));
  if (typeof node === 'string') {
    return UNSAFE_TEXT.test(node) || DECEPTIVE.test(node)
      ? [`${at(path)}: contains control, invisible or direction-changing characters`]
      : [];
  }
  if (Array.isArray(node)) return node.flatMap((item, index) => unsafeText(item, [...path, String(index)]));
  if (!(node instanceof Map)) return [];
  return [...node.entries()].flatMap(([key, value]) => {
    const name = String(key);
    if (name === '__proto__') return [`${at([...path, name])}: "__proto__" is not allowed as a key`];
    const keyProblems = unsafeText(name, [...path, name]);
    return keyProblems.length > 0 ? keyProblems : unsafeText(value, [...path, name]);
  });
}
