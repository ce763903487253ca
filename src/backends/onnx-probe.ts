import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { stateCodes } from '../convert/int8-states.js';
import { convertToOnnx, type Precision } from '../convert/tflite-to-onnx.js';
import type { ResolvedModel } from '../models/resolve.js';
import type { StateArrays } from './backend.js';
import { quantize } from './onnx-session.js';
import { loadOrtNode } from './onnxruntime.js';

/** A graph with probed tensors as outputs, and the feeds of one frame for it. */
export interface ProbeSession {
  session: InferenceSession;
  feeds: (image: Float32Array, states: StateArrays) => Record<string, OrtTensor>;
}

/**
 * The converted graph with every probed TFLite tensor as an output (`probe_<index>`), as a session of one thread:
 * what `parity --locate` and `drift`'s inside view read a frame's tensors from.
 */
export async function probeSession(
  model: ResolvedModel,
  precision: Precision,
  probes: number[],
): Promise<ProbeSession> {
  const ort = await loadOrtNode();
  const { bytes } = convertToOnnx(model.graph, model.signature, precision, probes);
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // As the backends run them: the exact graph unoptimized (a fusion would change its integer arithmetic).
    graphOptimizationLevel: precision === 'int8-exact' ? 'disabled' : 'all',
    logSeverityLevel: 3,
  });
  const sig = model.signature;
  const coded = stateCodes(precision, model.graph, sig);
  const feeds = (image: Float32Array, states: StateArrays) => {
    const out: Record<string, OrtTensor> = { [sig.image.name]: new ort.Tensor('float32', image, sig.image.shape) };
    for (const st of sig.states) {
      const v = states.get(st.name)!;
      const codec = coded.get(st.name);
      // The int8 graph takes its states as uint8 codes, as the backend's session feeds them.
      out[st.name] =
        codec && v instanceof Float32Array
          ? new ort.Tensor('uint8', quantize(v, codec), st.input.shape)
          : new ort.Tensor(v instanceof Int32Array ? 'int32' : 'float32', v, st.input.shape);
    }
    return out;
  };
  return { session, feeds };
}
