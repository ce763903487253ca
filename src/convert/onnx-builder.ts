import type OnnxProtoModule from 'onnx-proto';
import { lazyRequire } from '../util/lazy-require.js';

type Onnx = typeof OnnxProtoModule.onnx;
/** protobufjs's ONNX classes, required on the first graph built: most runs read a cached graph instead. */
const onnxProto = lazyRequire<typeof OnnxProtoModule>('onnx-proto');
const onnxClasses = (): Onnx => onnxProto().onnx;

/** ONNX TensorProto.DataType codes used here. */
export const OnnxType = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, double: 11 } as const;
export type OnnxTypeName = keyof typeof OnnxType;

/** Attribute values, tagged so ints and floats cannot be confused. */
export type Attr = { i: number } | { f: number } | { ints: number[] } | { floats: number[] } | { s: string };

export interface ValueSpec {
  name: string;
  type: OnnxTypeName;
  /** A string is a symbolic dimension (its size given at run time). */
  shape: readonly (number | string)[];
}

export const OPSET = 17;

/**
 * A small builder for one ONNX graph: unique names, typed initializers,
 * nodes, and graph inputs/outputs, serialised with onnx-proto (protobufjs).
 */
export class OnnxGraphBuilder {
  private readonly nodes: InstanceType<Onnx['NodeProto']>[] = [];
  private readonly initializers: InstanceType<Onnx['TensorProto']>[] = [];
  private readonly inputs: ValueSpec[] = [];
  private readonly outputs: ValueSpec[] = [];
  private readonly used = new Set<string>();
  private readonly constCache = new Map<string, string>();

  /** A fresh value name: `base`, or `base_2`, `base_3`… when taken. */
  unique(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.:/-]/g, '_') || 'v';
    let name = clean;
    for (let i = 2; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }

  reserve(name: string): void {
    if (this.used.has(name)) throw new Error(`ONNX value name '${name}' used twice`);
    this.used.add(name);
  }

  input(spec: ValueSpec): void {
    this.reserve(spec.name);
    this.inputs.push(spec);
  }

  output(spec: ValueSpec): void {
    this.outputs.push(spec);
  }

  /** A constant; identical small constants (shapes, axes, scales) are shared. */
  constant(
    base: string,
    type: OnnxTypeName,
    dims: number[],
    values: ArrayLike<number> | Int8Array | Float32Array,
  ): string {
    const key =
      values.length <= 64 ? `${type}|${dims}|${Array.from(values as ArrayLike<number>).join(',')}` : undefined;
    const hit = key && this.constCache.get(key);
    if (hit) return hit;
    const name = this.unique(base);
    const onnx = onnxClasses();
    const t = new onnx.TensorProto({ name, dims, dataType: OnnxType[type] });
    if (type === 'float') t.rawData = bytesOf(Float32Array.from(values as ArrayLike<number>));
    else if (type === 'int8') t.rawData = bytesOf(Int8Array.from(values as ArrayLike<number>));
    else if (type === 'uint8') t.rawData = bytesOf(Uint8Array.from(values as ArrayLike<number>));
    else if (type === 'int32') t.rawData = bytesOf(Int32Array.from(values as ArrayLike<number>));
    else if (type === 'double') t.rawData = bytesOf(Float64Array.from(values as ArrayLike<number>));
    else if (type === 'int64')
      t.rawData = bytesOf(BigInt64Array.from(Array.from(values as ArrayLike<number>, (v) => BigInt(v))));
    else throw new Error(`constant of type ${type} not supported`);
    this.initializers.push(t);
    if (key) this.constCache.set(key, name);
    return name;
  }

  int64s(base: string, values: number[]): string {
    return this.constant(base, 'int64', [values.length], values);
  }

  scalarFloat(base: string, v: number): string {
    return this.constant(base, 'float', [], [v]);
  }

  /** Adds a node; returns its first output's name. */
  node(opType: string, inputs: string[], outputBase: string | string[], attrs: Record<string, Attr> = {}): string {
    const outputs = Array.isArray(outputBase) ? outputBase : [this.unique(outputBase)];
    const onnx = onnxClasses();
    this.nodes.push(
      new onnx.NodeProto({
        opType,
        input: inputs,
        output: outputs,
        name: this.unique(`${opType}_${outputs[0]}`),
        attribute: Object.entries(attrs).map(([name, a]) => attribute(name, a)),
      }),
    );
    return outputs[0]!;
  }

  nodeCount(): number {
    return this.nodes.length;
  }

  encode(meta: { producer: string; version: string; doc: string; props: Record<string, string> }): Uint8Array {
    const onnx = onnxClasses();
    const valueInfo = (v: ValueSpec) =>
      new onnx.ValueInfoProto({
        name: v.name,
        type: new onnx.TypeProto({
          tensorType: new onnx.TypeProto.Tensor({
            elemType: OnnxType[v.type],
            shape: new onnx.TensorShapeProto({
              dim: v.shape.map(
                (d) => new onnx.TensorShapeProto.Dimension(typeof d === 'string' ? { dimParam: d } : { dimValue: d }),
              ),
            }),
          }),
        }),
      });
    const model = new onnx.ModelProto({
      irVersion: 8,
      producerName: meta.producer,
      producerVersion: meta.version,
      docString: meta.doc,
      opsetImport: [new onnx.OperatorSetIdProto({ domain: '', version: OPSET })],
      metadataProps: Object.entries(meta.props).map(([key, value]) => new onnx.StringStringEntryProto({ key, value })),
      graph: new onnx.GraphProto({
        name: 'main',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function attribute(name: string, a: Attr): InstanceType<Onnx['AttributeProto']> {
  const onnx = onnxClasses();
  const T = onnx.AttributeProto.AttributeType;
  if ('i' in a) return new onnx.AttributeProto({ name, type: T.INT, i: a.i });
  if ('f' in a) return new onnx.AttributeProto({ name, type: T.FLOAT, f: a.f });
  if ('ints' in a) return new onnx.AttributeProto({ name, type: T.INTS, ints: a.ints });
  if ('floats' in a) return new onnx.AttributeProto({ name, type: T.FLOATS, floats: a.floats });
  return new onnx.AttributeProto({ name, type: T.STRING, s: new TextEncoder().encode(a.s) });
}
