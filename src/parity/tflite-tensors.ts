import * as flatbuffers from 'flatbuffers';
import type { StateArrays } from '../backends/backend.js';
import { loadTfliteRunner, type Runner } from '../backends/tfjs-tflite.js';
import type { ResolvedModel } from '../models/resolve.js';
import * as schema from '../models/tflite-schema/tflite_generated.js';

/**
 * A copy of the model whose subgraph output `slot` is tensor `tensor`. The
 * interpreter exposes graph outputs only, so an intermediate tensor is read by
 * making it one; the vector is rewritten in place (same length, same offsets).
 */
function withOutput(bytes: Uint8Array, slot: number, tensor: number): Uint8Array {
  const copy = bytes.slice();
  const bb = new flatbuffers.ByteBuffer(copy);
  const sg = schema.Model.getRootAsModel(bb).subgraphs(0)!;
  // SubGraph.outputs is field 2 (vtable offset 8); the generated class reads it but cannot write it.
  const pos = (sg as unknown as { bb_pos: number }).bb_pos;
  const at = bb.__offset(pos, 8);
  if (!at || slot >= bb.__vector_len(pos + at)) throw new Error('the model has no such output slot');
  bb.writeInt32(bb.__vector(pos + at) + slot * 4, tensor);
  return copy;
}

/**
 * Reads intermediate tensors of a TFLite model as a TFLite runtime computes them,
 * one model load per tensor: rewriting more than one output slot (or a slot
 * whose tensor is also an input) makes the runtime fail, the logits slot alone
 * does not.
 */
export class TfliteTensorReader {
  private readonly slot: number;
  loads = 0;

  constructor(
    private readonly model: ResolvedModel,
    private readonly frame: Float32Array,
    private readonly states: StateArrays,
    /** The runtime that computes the tensors: tfjs-tflite unless another TFLite runtime is asked for. */
    private readonly load: (bytes: Uint8Array) => Promise<Runner> = (bytes) =>
      loadTfliteRunner(bytes.slice().buffer, { numThreads: 1 }),
  ) {
    this.slot = model.graph.subgraphs[0]!.outputs.indexOf(model.signature.logits.tensorIndex);
  }

  /** The tensor's raw values: int8 codes for a quantized tensor. */
  async read(tensor: number): Promise<ArrayLike<number>> {
    const bytes = withOutput(this.model.bytes, this.slot, tensor);
    const runner = await this.load(bytes);
    this.loads++;
    try {
      const sig = this.model.signature;
      for (const inp of runner.getInputs()) {
        const st = sig.states.find((s) => s.input.tensorName === inp.name);
        const values = st ? this.states.get(st.name) : inp.name === sig.image.tensorName ? this.frame : undefined;
        if (!values) throw new Error(`no value for input ${inp.name}`);
        inp.data().set(values);
      }
      if (!runner.infer()) throw new Error('TFLite: inference failed');
      const name = this.model.graph.subgraphs[0]!.tensors[tensor]!.name;
      const out = runner.getOutputs().find((o) => o.name === name);
      if (!out) throw new Error(`tensor ${tensor} (${name}) did not become an output`);
      return Array.from(out.data());
    } finally {
      runner.cleanUp();
    }
  }
}
