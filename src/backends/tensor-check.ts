import type { TensorSpec } from '../models/signature.js';

const WRONG_MAPPING = '(wrong signature/tensor mapping)';

/**
 * Checks that a runtime's own view of a tensor agrees with the signature: a
 * wrong name, shape or type here would silently feed states into the wrong slots.
 */
export function assertRuntimeTensor(
  backend: string,
  side: 'input' | 'output',
  spec: TensorSpec,
  found: { shape: ArrayLike<number>; dtype: string } | undefined,
): void {
  if (!found) {
    const tensor = `${side} tensor '${spec.tensorName}' for signature '${spec.name}'`;
    throw new Error(`${backend}: the runtime has no ${tensor} ${WRONG_MAPPING}`);
  }
  const shape = Array.from(found.shape);
  if (shape.join(',') !== spec.shape.join(',') || found.dtype !== spec.dtype) {
    const inRuntime = `[${shape}] ${found.dtype} in the runtime`;
    const inSignature = `[${spec.shape}] ${spec.dtype} in the signature`;
    throw new Error(`${backend}: ${side} '${spec.name}' is ${inRuntime} but ${inSignature} ${WRONG_MAPPING}`);
  }
}
