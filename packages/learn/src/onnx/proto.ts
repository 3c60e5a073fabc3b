/**
 * A minimal protocol-buffers writer: just the wire types ONNX needs (varint, 32-bit,
 * 64-bit, length-delimited), written into a growing byte buffer.
 */
export class ProtoWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  /** Bytes written so far. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }

  #ensure(extra: number): void {
    if (this.#len + extra <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  #rawVarint(value: number | bigint): void {
    this.#ensure(10);
    if (typeof value === 'number' && value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
      let v = value;
      while (v >= 0x80) {
        this.#buf[this.#len++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.#buf[this.#len++] = v;
      return;
    }
    // Negative int64: two's complement over 64 bits, always 10 bytes.
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.#buf[this.#len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#buf[this.#len++] = Number(v);
  }

  #key(field: number, wire: number): void {
    this.#rawVarint(field * 8 + wire);
  }

  /** An int32/int64/enum/bool field. */
  varint(field: number, value: number | bigint): this {
    this.#key(field, 0);
    this.#rawVarint(value);
    return this;
  }

  /** A `float` field (fixed 32-bit). */
  float(field: number, value: number): this {
    this.#key(field, 5);
    this.#ensure(4);
    new DataView(this.#buf.buffer).setFloat32(this.#len, value, true);
    this.#len += 4;
    return this;
  }

  /** A `bytes` field. */
  bytes(field: number, value: Uint8Array): this {
    this.#key(field, 2);
    this.#rawVarint(value.length);
    this.#ensure(value.length);
    this.#buf.set(value, this.#len);
    this.#len += value.length;
    return this;
  }

  /** A `string` field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, ENCODER.encode(value));
  }

  /** An embedded message field. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  /** A packed repeated int64/int32 field. */
  packedVarints(field: number, values: ArrayLike<number>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.#rawVarint(values[i]!);
    return this.bytes(field, inner.finish());
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return this.bytes(field, data);
  }
}

const ENCODER = new TextEncoder();
