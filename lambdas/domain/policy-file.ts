// Domain: reading the policy file (CONTRACT §4) from its YAML text. Kept apart from the
// schema so Lambda bundles, which get the document compiled in, carry no YAML parser.
import { parseDocument } from 'yaml';
import { PolicyError } from './errors';
import { policyFromDocument, policyVersionOf, type Policy } from './policy';

/** Parses and validates a policy file's text. Throws PolicyError naming file, path and problem. */
export function parsePolicy(text: string, file: string): Policy {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new PolicyError(file, document.errors.map((error) => `YAML: ${error.message.split('\n')[0]}`));
  }
  return policyFromDocument(document.toJS(), file, policyVersionOf(text));
}
