import type { StateArrays } from '../backends/backend.js';
import { probeSession } from '../backends/onnx-probe.js';
import { stateCodes } from '../convert/int8-states.js';
import type { Precision } from '../convert/tflite-to-onnx.js';
import type { DriftInside, DriftTensor } from '../core/results.js';
import type { ResolvedModel } from '../models/resolve.js';
import { mean } from './measure.js';

/** How many op nodes the report lists, the ones that add most first. */
const NODES_LISTED = 15;

/** Tensor types a probe output can carry. */
const PROBED = new Set(['float32', 'int8', 'uint8', 'int32']);

/** A frame of the stream whose tensors are read, with the states each side carried into it. */
export interface TakenFrame {
  frame: number;
  image: Float32Array;
  quantized: StateArrays;
  reference: StateArrays;
}

type Values = Float32Array | Int32Array;

/** RMS of the difference over the larger RMS of the two: bounded, and defined when one of them is all zeros. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): { relative: number; rms: number } {
  let [d, aa, bb] = [0, 0, 0];
  for (let k = 0; k < b.length; k++) {
    d += (a[k]! - b[k]!) ** 2;
    aa += a[k]! ** 2;
    bb += b[k]! ** 2;
  }
  const n = Math.max(1, b.length);
  const scale = Math.sqrt(Math.max(aa, bb) / n);
  const rms = Math.sqrt(d / n);
  return { relative: scale > 0 ? rms / scale : 0, rms };
}

/**
 * Where inside a frame the error arises, for a pair that runs one file as two ONNX graphs: both graphs with every
 * computed tensor exposed as an output, each run once per chosen frame on the states its own stream carried into
 * that frame, and each tensor compared (the same TFLite tensor index in both). An op's share is what it adds: its
 * output's relative error minus the largest of its activation inputs'.
 */
export async function insideFrames(
  model: ResolvedModel,
  precisions: { quantized: Precision; reference: Precision },
  taken: readonly TakenFrame[],
  stream: number,
): Promise<DriftInside> {
  const sg = model.graph.subgraphs[0]!;
  const sig = model.signature;
  // States a graph takes as codes have their QUANTIZE/DEQUANTIZE left out: those tensors exist in neither graph.
  const skipped = new Set(
    [precisions.quantized, precisions.reference].flatMap((p) =>
      [...stateCodes(p, model.graph, sig).values()].flatMap((c) => c.ops),
    ),
  );
  const inputs = new Set([sig.image.tensorIndex, ...sig.states.map((s) => s.input.tensorIndex)]);
  const ops = sg.operators.filter((op) => !skipped.has(op.index));
  const probes = [
    ...new Set(ops.flatMap((op) => op.outputs.filter((t) => !inputs.has(t) && PROBED.has(sg.tensors[t]!.type)))),
  ];
  const probed = new Set(probes);
  const [q, r] = await Promise.all([
    probeSession(model, precisions.quantized, probes),
    probeSession(model, precisions.reference, probes),
  ]);
  const perTensor = new Map<number, { relative: number[]; steps: number[]; added: number[] }>();
  try {
    for (const f of taken) {
      const [a, b] = [
        await q.session.run(q.feeds(f.image, f.quantized)),
        await r.session.run(r.feeds(f.image, f.reference)),
      ];
      const relative = new Map<number, number>([[sig.image.tensorIndex, 0]]);
      for (const st of sig.states) {
        const [x, y] = [f.quantized.get(st.name), f.reference.get(st.name)];
        if (x && y) relative.set(st.input.tensorIndex, relativeError(x, y).relative);
      }
      const rms = new Map<number, number>();
      for (const t of probes) {
        const [x, y] = [a[`probe_${t}`]?.data as Values | undefined, b[`probe_${t}`]?.data as Values | undefined];
        if (!x || !y) continue;
        const e = relativeError(x, y);
        relative.set(t, e.relative);
        rms.set(t, e.rms);
      }
      for (const op of ops) {
        const before = Math.max(0, ...op.inputs.flatMap((i) => (i >= 0 && relative.has(i) ? [relative.get(i)!] : [])));
        for (const t of op.outputs) {
          const rel = relative.get(t);
          if (rel === undefined || !probed.has(t)) continue;
          const tensor = sg.tensors[t]!;
          const step =
            tensor.type === 'int8' && tensor.quantization?.scale.length === 1 ? tensor.quantization.scale[0]! : 0;
          const entry = perTensor.get(t) ?? { relative: [], steps: [], added: [] };
          entry.relative.push(rel);
          if (step > 0) entry.steps.push(rms.get(t)! / step);
          entry.added.push(rel - before);
          perTensor.set(t, entry);
        }
      }
    }
  } finally {
    await Promise.all([q.session.release(), r.session.release()]);
  }
  const producer = new Map(sg.operators.flatMap((op) => op.outputs.map((t) => [t, op] as const)));
  const tensors: DriftTensor[] = [...perTensor].map(([t, e]) => {
    const op = producer.get(t)!;
    return {
      index: t,
      // TFLite names a fused tensor after every op folded into it; the first says where it is.
      name: sg.tensors[t]!.name.split(';')[0]!,
      op: op.opcode,
      opIndex: op.index,
      relativeRms: mean(e.relative),
      steps: e.steps.length ? mean(e.steps) : null,
      added: mean(e.added),
    };
  });
  const byOp = new Map<string, { op: string; nodes: number; added: number; maxRelativeRms: number }>();
  for (const x of tensors) {
    const o = byOp.get(x.op) ?? { op: x.op, nodes: 0, added: 0, maxRelativeRms: 0 };
    o.nodes++;
    o.added += x.added;
    o.maxRelativeRms = Math.max(o.maxRelativeRms, x.relativeRms);
    byOp.set(x.op, o);
  }
  return {
    note: null,
    stream,
    frames: taken.map((f) => f.frame),
    tensors: tensors.length,
    top: [...tensors].sort((x, y) => y.added - x.added).slice(0, NODES_LISTED),
    byOp: [...byOp.values()].sort((x, y) => y.added - x.added),
  };
}
