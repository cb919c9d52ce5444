// Bench (soak): compares two heap snapshots of the engine taken by `npm run bench:soak -- --heap-snapshots DIR`
// and says where the memory that appeared between them hangs. V8 keeps an object's snapshot id for
// its life, so an object is new when its id is absent from the first snapshot. Each new object is
// charged to its anchor: the last object that already existed on its shortest path from the roots
// (the map, array or closure that keeps growing), named by the path that reaches that anchor.
// Usage: tsx bench/soak-heap-diff.ts FIRST.heapsnapshot SECOND.heapsnapshot [--top 25]
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface RawSnapshot {
  readonly snapshot: { readonly meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  readonly nodes: number[];
  readonly edges: number[];
  readonly strings: string[];
}

/** A snapshot as flat arrays, one slot per node, with each node's shortest retaining edge from the roots. */
export interface HeapGraph {
  readonly count: number;
  readonly ids: Uint32Array;
  readonly selfSizes: Float64Array;
  readonly labels: string[];
  /** Index of the node that retains this one on its shortest path from the root; -1 for the root and the unreachable. */
  readonly parents: Int32Array;
  /** The name of that edge (property, index or variable name). */
  readonly parentEdges: string[];
}

/** Parses a `.heapsnapshot` and finds each node's shortest retainer path, ignoring weak edges. */
export function readHeapGraph(raw: RawSnapshot): HeapGraph {
  const { meta } = raw.snapshot;
  const nodeFieldCount = meta.node_fields.length;
  const edgeFieldCount = meta.edge_fields.length;
  const [nodeTypes] = meta.node_types;
  const [edgeTypes] = meta.edge_types;
  const field = (name: string, fields: string[]) => fields.indexOf(name);
  const [typeAt, nameAt, idAt, sizeAt, edgeCountAt] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((name) => field(name, meta.node_fields));
  const [edgeTypeAt, edgeNameAt, toNodeAt] = ['type', 'name_or_index', 'to_node'].map((name) => field(name, meta.edge_fields));
  const count = raw.nodes.length / nodeFieldCount;
  const ids = new Uint32Array(count);
  const selfSizes = new Float64Array(count);
  const labels: string[] = new Array(count);
  const firstEdge = new Uint32Array(count + 1);
  for (let node = 0, edge = 0; node < count; node++) {
    const base = node * nodeFieldCount;
    const type = nodeTypes[raw.nodes[base + typeAt]];
    const name = raw.strings[raw.nodes[base + nameAt]];
    ids[node] = raw.nodes[base + idAt];
    selfSizes[node] = raw.nodes[base + sizeAt];
    labels[node] = type === 'object' || type === 'closure' || type === 'native' ? `${type} ${name.slice(0, 60)}` : `(${type})`;
    firstEdge[node] = edge;
    edge += raw.nodes[base + edgeCountAt] * edgeFieldCount;
    firstEdge[node + 1] = edge;
  }
  const parents = new Int32Array(count).fill(-1);
  const parentEdges: string[] = new Array(count);
  const seen = new Uint8Array(count);
  const queue = new Int32Array(count);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  seen[0] = 1;
  while (head < tail) {
    const node = queue[head++];
    for (let edge = firstEdge[node]; edge < firstEdge[node + 1]; edge += edgeFieldCount) {
      const edgeType = edgeTypes[raw.edges[edge + edgeTypeAt]];
      if (edgeType === 'weak') continue;
      const target = raw.edges[edge + toNodeAt] / nodeFieldCount;
      if (seen[target]) continue;
      seen[target] = 1;
      parents[target] = node;
      const nameOrIndex = raw.edges[edge + edgeNameAt];
      parentEdges[target] = edgeType === 'element' || edgeType === 'hidden' ? `[${nameOrIndex}]` : String(raw.strings[nameOrIndex]).slice(0, 40);
      queue[tail++] = target;
    }
  }
  return { count, ids, selfSizes, labels, parents, parentEdges };
}

/** What appeared between two snapshots, charged to the pre-existing object each new one hangs from. */
export interface HeapGrowth {
  readonly newObjects: number;
  readonly newBytes: number;
  /** By anchor: the path that reaches it, how many new objects and bytes hang below it, and of which kinds. */
  readonly byAnchor: readonly { readonly path: string; readonly objects: number; readonly bytes: number; readonly kinds: string }[];
  /** By kind (constructor, or the node type for strings, arrays, code...). */
  readonly byKind: readonly { readonly kind: string; readonly objects: number; readonly bytes: number }[];
}

export function heapGrowth(before: HeapGraph, after: HeapGraph, top = 25): HeapGrowth {
  const existed = new Set<number>();
  for (const id of before.ids) existed.add(id);
  const isNew = (node: number) => !existed.has(after.ids[node]);
  const anchors = new Map<number, { objects: number; bytes: number; kinds: Map<string, number> }>();
  const kinds = new Map<string, { objects: number; bytes: number }>();
  let newObjects = 0;
  let newBytes = 0;
  for (let node = 1; node < after.count; node++) {
    if (after.parents[node] === -1 || !isNew(node)) continue;
    newObjects++;
    newBytes += after.selfSizes[node];
    const kind = kinds.get(after.labels[node]) ?? { objects: 0, bytes: 0 };
    kind.objects++;
    kind.bytes += after.selfSizes[node];
    kinds.set(after.labels[node], kind);
    let anchor = after.parents[node];
    while (anchor > 0 && isNew(anchor)) anchor = after.parents[anchor];
    const charged = anchors.get(anchor) ?? { objects: 0, bytes: 0, kinds: new Map() };
    charged.objects++;
    charged.bytes += after.selfSizes[node];
    charged.kinds.set(after.labels[node], (charged.kinds.get(after.labels[node]) ?? 0) + 1);
    anchors.set(anchor, charged);
  }
  const byAnchor = [...anchors.entries()]
    .sort(([, a], [, b]) => b.bytes - a.bytes)
    .slice(0, top)
    .map(([anchor, charged]) => ({
      path: retainerPath(after, anchor),
      objects: charged.objects,
      bytes: charged.bytes,
      kinds: [...charged.kinds.entries()]
        .sort(([, a], [, b]) => b - a)
        .slice(0, 4)
        .map(([kind, objects]) => `${objects} ${kind}`)
        .join(', '),
    }));
  const byKind = [...kinds.entries()]
    .sort(([, a], [, b]) => b.bytes - a.bytes)
    .slice(0, top)
    .map(([kind, { objects, bytes }]) => ({ kind, objects, bytes }));
  return { newObjects, newBytes, byAnchor, byKind };
}

/** The shortest path from the root to `node`, the last few steps: `label .edge → label .edge → ...`. */
function retainerPath(graph: HeapGraph, node: number, steps = 7): string {
  const parts: string[] = [];
  for (let at = node; at > 0 && parts.length < steps; at = graph.parents[at]) parts.unshift(`${graph.parentEdges[at]} → ${graph.labels[at]}`);
  return parts.join(' · ');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 2) throw new Error('usage: tsx bench/soak-heap-diff.ts FIRST.heapsnapshot SECOND.heapsnapshot [--top 25]');
  const [before, after] = await Promise.all(positionals.map(async (file) => readHeapGraph(JSON.parse(await readFile(file, 'utf8')) as RawSnapshot)));
  const growth = heapGrowth(before, after, Number(values.top));
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log(`${growth.newObjects} objects, ${kib(growth.newBytes)} reachable in the second snapshot and absent from the first\n`);
  console.log('Where they hang (the last object that already existed, by its retainer path):');
  for (const anchor of growth.byAnchor) console.log(`${kib(anchor.bytes).padStart(11)} ${String(anchor.objects).padStart(7)}  ${anchor.path}\n${' '.repeat(21)}${anchor.kinds}`);
  console.log('\nBy kind:');
  for (const kind of growth.byKind) console.log(`${kib(kind.bytes).padStart(11)} ${String(kind.objects).padStart(7)}  ${kind.kind}`);
}

if (process.argv[1] === import.meta.filename) await main();
