import type { OpProfile } from '../core/results.js';

/** One node's time in one step, as a runtime's profiler reports it. */
export interface NodeTime {
  node: string;
  op: string;
  ms: number;
}

const TOP_NODES = 15;
/** A delegate node is named after every op it absorbed; a name is cut to this many characters. */
const NODE_NAME_MAX = 100;
const shortName = (n: string) => (n.length > NODE_NAME_MAX ? `${n.slice(0, NODE_NAME_MAX - 1)}…` : n);

/** Time per operator type and the slowest nodes, per frame, from every node execution of `frames` steps. */
export function summarizeProfile(
  backend: string,
  source: string,
  times: readonly NodeTime[],
  frames: number,
): OpProfile {
  const perFrame = (ms: number) => (frames ? ms / frames : 0);
  const byOp = new Map<string, { ms: number; nodes: Set<string> }>();
  const byNode = new Map<string, { op: string; ms: number }>();
  let total = 0;
  for (const t of times) {
    total += t.ms;
    const o = byOp.get(t.op) ?? { ms: 0, nodes: new Set<string>() };
    o.ms += t.ms;
    o.nodes.add(t.node);
    byOp.set(t.op, o);
    const n = byNode.get(t.node) ?? { op: t.op, ms: 0 };
    n.ms += t.ms;
    byNode.set(t.node, n);
  }
  return {
    backend,
    source,
    available: true,
    frames,
    totalMsPerFrame: perFrame(total),
    byOp: [...byOp]
      .map(([op, o]) => ({ op, nodes: o.nodes.size, msPerFrame: perFrame(o.ms), share: total ? o.ms / total : 0 }))
      .sort((a, b) => b.msPerFrame - a.msPerFrame),
    topNodes: [...byNode]
      .map(([node, n]) => ({ node: shortName(node), op: n.op, msPerFrame: perFrame(n.ms) }))
      .sort((a, b) => b.msPerFrame - a.msPerFrame)
      .slice(0, TOP_NODES),
  };
}

/** The entry for a runtime that has no profiler: said in the report rather than left out. */
export function noProfile(backend: string, why: string): OpProfile {
  return { backend, source: why, available: false, frames: 0, totalMsPerFrame: 0, byOp: [], topNodes: [] };
}
