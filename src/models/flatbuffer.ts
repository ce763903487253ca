import * as flatbuffers from 'flatbuffers';

/**
 * A thin, typed view over one flatbuffer table. Fields are addressed by their
 * schema field id (declaration order, unions taking two ids), which is how the
 * TFLite schema stays backward compatible: new fields only ever get new ids.
 */
export class FbTable {
  constructor(
    readonly bb: flatbuffers.ByteBuffer,
    readonly pos: number,
  ) {}

  private offset(id: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * id);
  }

  has(id: number): boolean {
    return this.offset(id) !== 0;
  }

  int32(id: number, fallback = 0): number {
    const o = this.offset(id);
    return o ? this.bb.readInt32(this.pos + o) : fallback;
  }

  uint32(id: number, fallback = 0): number {
    const o = this.offset(id);
    return o ? this.bb.readUint32(this.pos + o) : fallback;
  }

  int8(id: number, fallback = 0): number {
    const o = this.offset(id);
    return o ? this.bb.readInt8(this.pos + o) : fallback;
  }

  uint8(id: number, fallback = 0): number {
    const o = this.offset(id);
    return o ? this.bb.readUint8(this.pos + o) : fallback;
  }

  bool(id: number, fallback = false): boolean {
    const o = this.offset(id);
    return o ? this.bb.readInt8(this.pos + o) !== 0 : fallback;
  }

  float32(id: number, fallback = 0): number {
    const o = this.offset(id);
    return o ? this.bb.readFloat32(this.pos + o) : fallback;
  }

  uint64(id: number, fallback = 0n): bigint {
    const o = this.offset(id);
    return o ? this.bb.readUint64(this.pos + o) : fallback;
  }

  string(id: number): string | undefined {
    const o = this.offset(id);
    if (!o) return undefined;
    const s = this.bb.__string(this.pos + o, flatbuffers.Encoding.UTF8_BYTES);
    return typeof s === 'string' ? s : new TextDecoder().decode(s);
  }

  table(id: number): FbTable | undefined {
    const o = this.offset(id);
    return o ? new FbTable(this.bb, this.bb.__indirect(this.pos + o)) : undefined;
  }

  length(id: number): number {
    const o = this.offset(id);
    return o ? this.bb.__vector_len(this.pos + o) : 0;
  }

  tables(id: number): FbTable[] {
    const o = this.offset(id);
    if (!o) return [];
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    const out: FbTable[] = [];
    for (let i = 0; i < n; i++) out.push(new FbTable(this.bb, this.bb.__indirect(start + i * 4)));
    return out;
  }

  int32s(id: number): number[] {
    return this.scalars(id, 4, (p) => this.bb.readInt32(p));
  }

  float32s(id: number): number[] {
    return this.scalars(id, 4, (p) => this.bb.readFloat32(p));
  }

  int64s(id: number): number[] {
    return this.scalars(id, 8, (p) => Number(this.bb.readInt64(p)));
  }

  /** A zero-copy view of a [ubyte] vector. */
  bytes(id: number): Uint8Array | undefined {
    const o = this.offset(id);
    if (!o) return undefined;
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    return this.bb.bytes().subarray(start, start + n);
  }

  private scalars(id: number, width: number, read: (pos: number) => number): number[] {
    const o = this.offset(id);
    if (!o) return [];
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = read(start + i * width);
    return out;
  }
}

export function rootTable(bytes: Uint8Array): FbTable {
  const bb = new flatbuffers.ByteBuffer(bytes);
  return new FbTable(bb, bb.readInt32(bb.position()) + bb.position());
}

export function fileIdentifier(bytes: Uint8Array): string {
  return bytes.length >= 8 ? String.fromCharCode(...bytes.subarray(4, 8)) : '';
}
