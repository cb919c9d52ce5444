// Policy lint: turns a path inside the policy file (`scopes.repo-read.statements.0`) into
// the line it is on, so `taskbound policy check` can point at it. Uses the YAML parser, so
// like the rest of policy-lint it never reaches a Lambda bundle.
import { isNode, LineCounter, parseDocument } from 'yaml';

/** A function from a path (array, or dotted string) to its 1-based line, or undefined when it cannot be found. */
export function lineLocator(text: string): (path: readonly (string | number)[] | string) => number | undefined {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  return (path) => {
    const segments =
      typeof path === 'string' ? path.split('.').map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment)) : path;
    for (let length = segments.length; length > 0; length -= 1) {
      const node: unknown = document.getIn(segments.slice(0, length), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
}
