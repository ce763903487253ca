/** ONNX values are unique, but a stream state has one signature name for input and output. */
export function onnxOutputName(signatureName: string, isState: boolean): string {
  return isState ? `${signatureName}:next` : signatureName;
}
