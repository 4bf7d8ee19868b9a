/**
 * Protobuf at the wire level: the fields of a message as byte ranges, and the few encoders the export needs.
 * Untouched parts of a model are copied as these ranges, so fields newer than onnx-proto's schema (IR 8)
 * survive byte for byte.
 */
import { Reader } from 'protobufjs/minimal';

/** One field of a message: number, wire type, and where its bytes are (tag included) and its value starts. */
export interface WireField {
  field: number;
  wire: number;
  /** Offset of the tag. */
  start: number;
  /** Offset of the value (after the length, for length-delimited fields). */
  valueStart: number;
  /** Offset after the field. */
  end: number;
}

const LEN = 2;

/** The fields of a message in `bytes[from, to)`, in order; throws for malformed protobuf. */
export function scanFields(bytes: Uint8Array, from = 0, to = bytes.length): WireField[] {
  const reader = Reader.create(bytes.subarray(0, to));
  reader.pos = from;
  const fields: WireField[] = [];
  while (reader.pos < to) {
    const start = reader.pos;
    const tag = reader.uint32();
    const wire = tag & 7;
    let valueStart = reader.pos;
    if (wire === LEN) {
      const length = reader.uint32();
      valueStart = reader.pos;
      if (valueStart + length > to) throw new Error(`field ${tag >>> 3} at byte ${start} runs past its message`);
      reader.pos = valueStart + length;
    } else {
      reader.skipType(wire);
    }
    fields.push({ field: tag >>> 3, wire, start, valueStart, end: reader.pos });
  }
  return fields;
}

/** The string value of the first length-delimited field `field` of a message, or undefined. */
export function stringField(
  bytes: Uint8Array,
  message: { valueStart: number; end: number },
  field: number,
): string | undefined {
  const f = scanFields(bytes, message.valueStart, message.end).find((x) => x.field === field && x.wire === LEN);
  return f ? new TextDecoder().decode(bytes.subarray(f.valueStart, f.end)) : undefined;
}

/** The varint value of the first varint field `field` of a message, or undefined. */
export function varintField(
  bytes: Uint8Array,
  message: { valueStart: number; end: number },
  field: number,
): number | undefined {
  const f = scanFields(bytes, message.valueStart, message.end).find((x) => x.field === field && x.wire === 0);
  if (!f) return undefined;
  const reader = Reader.create(bytes.subarray(0, f.end));
  reader.pos = f.valueStart;
  return Number(reader.int64().toString());
}

/** A varint's bytes. */
export function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** The tag (and, for length-delimited fields, the length) of a field. */
export function fieldHeader(field: number, length?: number): Uint8Array {
  const tag = varint(field * 8 + (length === undefined ? 0 : LEN));
  return length === undefined ? tag : concat([tag, varint(length)]);
}

/** A varint field. */
export function varintFieldBytes(field: number, value: number): Uint8Array {
  return concat([fieldHeader(field), varint(value)]);
}

/** A length-delimited field holding `value`. */
export function lengthField(field: number, value: Uint8Array): Uint8Array {
  return concat([fieldHeader(field, value.length), value]);
}

/** Bytes of a length as a varint padded to 5 bytes (a length patched in after the content is written). */
export function paddedVarint(value: number): Uint8Array {
  const out = new Uint8Array(5);
  let v = value;
  for (let i = 0; i < 5; i++) {
    out[i] = (v % 0x80) | (i < 4 ? 0x80 : 0);
    v = Math.floor(v / 0x80);
  }
  if (v !== 0) throw new Error(`a length of ${value} bytes does not fit a protobuf field`);
  return out;
}

/** Bytes joined. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
