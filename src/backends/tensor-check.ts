import type { TensorSpec } from '../models/signature.js';

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
  if (!found)
    throw new Error(
      `${backend}: the runtime has no ${side} tensor '${spec.tensorName}' for signature '${spec.name}' (wrong signature/tensor mapping)`,
    );
  const shape = Array.from(found.shape);
  if (shape.join(',') !== spec.shape.join(',') || found.dtype !== spec.dtype) {
    throw new Error(
      `${backend}: ${side} '${spec.name}' is [${shape}] ${found.dtype} in the runtime but [${spec.shape}] ${spec.dtype} in the signature (wrong signature/tensor mapping)`,
    );
  }
}
