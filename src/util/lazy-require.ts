import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A package required on first use, not at every command's start: for a package few runs need (an archive
 * reader, the ONNX writer) whose loading would cost every process a share of its start.
 */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
