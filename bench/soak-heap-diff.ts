// Bench (soak): compares two heap snapshots of the engine taken by `npm run bench:soak -- --heap-snapshots DIR`
// and says where the memory that appeared between them hangs. V8 keeps an object's snapshot id for
// its life, so an object is new when its id is absent from the first snapshot. Each new object is
// charged to its anchor: the last object that already existed on its shortest path from the roots
// (the map, array or closure that keeps growing), named by the path that reaches that anchor.
// Usage: npm run bench:soak-diff -- FIRST.heapsnapshot SECOND.heapsnapshot [--top 25]
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

/** `values[index]`, which a well-formed snapshot always has (its arrays index each other). */
function at<T>(values: ArrayLike<T>, index: number): T {
  const value = values[index];
  if (value === undefined) throw new Error(`malformed heap snapshot: no entry ${index}`);
  return value;
}

/** Parses a `.heapsnapshot` and finds each node's shortest retainer path, ignoring weak edges. */
export function readHeapGraph(raw: RawSnapshot): HeapGraph {
  const { meta } = raw.snapshot;
  const nodeFieldCount = meta.node_fields.length;
  const edgeFieldCount = meta.edge_fields.length;
  const [nodeTypes] = meta.node_types;
  const [edgeTypes] = meta.edge_types;
  const field = (name: string, fields: string[]) => {
    const index = fields.indexOf(name);
    if (index < 0) throw new Error(`heap snapshot without the field ${name}`);
    return index;
  };
  const [typeAt, nameAt, idAt, sizeAt, edgeCountAt] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((name) =>
    field(name, meta.node_fields),
  ) as [number, number, number, number, number];
  const [edgeTypeAt, edgeNameAt, toNodeAt] = ['type', 'name_or_index', 'to_node'].map((name) => field(name, meta.edge_fields)) as [
    number,
    number,
    number,
  ];
  const { nodes, edges, strings } = raw;
  const count = nodes.length / nodeFieldCount;
  const ids = new Uint32Array(count);
  const selfSizes = new Float64Array(count);
  const labels: string[] = new Array(count);
  const firstEdge = new Uint32Array(count + 1);
  for (let node = 0, edge = 0; node < count; node++) {
    const base = node * nodeFieldCount;
    const type = at(nodeTypes, at(nodes, base + typeAt));
    const name = at(strings, at(nodes, base + nameAt));
    ids[node] = at(nodes, base + idAt);
    selfSizes[node] = at(nodes, base + sizeAt);
    labels[node] = type === 'object' || type === 'closure' || type === 'native' ? `${type} ${name.slice(0, 60)}` : `(${type})`;
    firstEdge[node] = edge;
    edge += at(nodes, base + edgeCountAt) * edgeFieldCount;
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
    const node = at(queue, head++);
    for (let edge = at(firstEdge, node); edge < at(firstEdge, node + 1); edge += edgeFieldCount) {
      const edgeType = at(edgeTypes, at(edges, edge + edgeTypeAt));
      if (edgeType === 'weak') continue;
      const target = at(edges, edge + toNodeAt) / nodeFieldCount;
      if (seen[target]) continue;
      seen[target] = 1;
      parents[target] = node;
      const nameOrIndex = at(edges, edge + edgeNameAt);
      parentEdges[target] = edgeType === 'element' || edgeType === 'hidden' ? `[${nameOrIndex}]` : at(strings, nameOrIndex).slice(0, 40);
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
  const isNew = (node: number) => !existed.has(at(after.ids, node));
  const anchors = new Map<number, { objects: number; bytes: number; kinds: Map<string, number> }>();
  const kinds = new Map<string, { objects: number; bytes: number }>();
  let newObjects = 0;
  let newBytes = 0;
  for (let node = 1; node < after.count; node++) {
    if (after.parents[node] === -1 || !isNew(node)) continue;
    const bytes = at(after.selfSizes, node);
    const label = at(after.labels, node);
    newObjects++;
    newBytes += bytes;
    const kind = kinds.get(label) ?? { objects: 0, bytes: 0 };
    kind.objects++;
    kind.bytes += bytes;
    kinds.set(label, kind);
    let anchor = at(after.parents, node);
    while (anchor > 0 && isNew(anchor)) anchor = at(after.parents, anchor);
    const charged = anchors.get(anchor) ?? { objects: 0, bytes: 0, kinds: new Map<string, number>() };
    charged.objects++;
    charged.bytes += bytes;
    charged.kinds.set(label, (charged.kinds.get(label) ?? 0) + 1);
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
  for (let step = node; step > 0 && parts.length < steps; step = at(graph.parents, step))
    parts.unshift(`${at(graph.parentEdges, step)} → ${at(graph.labels, step)}`);
  return parts.join(' · ');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 2) throw new Error('usage: npm run bench:soak-diff -- FIRST.heapsnapshot SECOND.heapsnapshot [--top 25]');
  const [before, after] = (await Promise.all(
    positionals.map(async (file) => readHeapGraph(JSON.parse(await readFile(file, 'utf8')) as RawSnapshot)),
  )) as [HeapGraph, HeapGraph];
  const growth = heapGrowth(before, after, Number(values.top));
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log(`${growth.newObjects} objects, ${kib(growth.newBytes)} reachable in the second snapshot and absent from the first\n`);
  console.log('Where they hang (the last object that already existed, by its retainer path):');
  for (const anchor of growth.byAnchor)
    console.log(
      `${kib(anchor.bytes).padStart(11)} ${String(anchor.objects).padStart(7)}  ${anchor.path}\n${' '.repeat(21)}${anchor.kinds}`,
    );
  console.log('\nBy kind:');
  for (const kind of growth.byKind) console.log(`${kib(kind.bytes).padStart(11)} ${String(kind.objects).padStart(7)}  ${kind.kind}`);
}

if (process.argv[1] === import.meta.filename) await main();
