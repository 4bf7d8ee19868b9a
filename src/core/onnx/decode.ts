/** Decodes ONNX ModelProto bytes, turning decoder failures into errors that say what and where. */
import { onnx } from 'onnx-proto';
import { Reader } from 'protobufjs/minimal';
import { ModelError } from './errors';
import { sniffFormat } from './sniff';

/** protobufjs int64 values arrive as Long objects or plain numbers. */
export type Int64 = number | { toNumber(): number };

/** Converts a protobufjs int64 (Long or number) to a JS number. */
export function int64ToNumber(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) {
    return 0;
  }
  return typeof value === 'number' ? value : value.toNumber();
}

/** Byte offset at which protobufjs stopped, parsed from its error message when it reports one. */
function decoderOffset(message: string): number | undefined {
  const range = /index out of range: (\d+) \+ (\d+) > (\d+)/.exec(message);
  if (range) {
    return Number(range[1]);
  }
  const at = /at offset (\d+)/.exec(message);
  return at ? Number(at[1]) : undefined;
}

/** The decoder's complaint in plain words (never the decoder's or the engine's own text). */
function decoderReason(raw: string): string {
  if (/index out of range/.test(raw)) {
    return 'the file looks truncated (a field runs past the end of the file)';
  }
  if (/Maximum call stack size exceeded/.test(raw)) {
    return 'messages are nested too deeply to be read';
  }
  const wire = /invalid wire type (\d+)/.exec(raw);
  if (wire) {
    return `a field has the invalid wire type ${wire[1]}`;
  }
  if (/allocation failed|Invalid (typed )?array length|Invalid string length/.test(raw)) {
    return 'a field declares more data than can be held in memory';
  }
  return 'the protobuf could not be decoded';
}

const VARINT = 0;
const LEN = 2;
const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32'];
/** Wire types of ModelProto's fields (onnx.proto); fields not listed are unknown and skipped. */
const MODEL_FIELDS = new Map([
  [1, VARINT],
  [2, LEN],
  [3, LEN],
  [4, LEN],
  [5, VARINT],
  [6, LEN],
  [7, LEN],
  [8, LEN],
  [14, LEN],
  [20, LEN],
  [25, LEN],
]);
/** Wire types of TensorProto's fields, to recognise a lone tensor (e.g. ONNX test data `input_0.pb`). */
const TENSOR_FIELDS = new Map([
  [1, -1],
  [2, VARINT],
  [3, LEN],
  [4, -1],
  [5, -1],
  [6, LEN],
  [7, -1],
  [8, LEN],
  [9, LEN],
  [10, -1],
  [11, -1],
  [12, LEN],
  [13, LEN],
  [14, VARINT],
]);

/** A top-level field: its number, wire type and the byte offset of its tag. */
interface TopField {
  field: number;
  wire: number;
  offset: number;
}

/** Top-level fields of a message, or where and why the wire format broke. */
type TopLevel =
  | { ok: true; fields: TopField[] }
  | { ok: false; fields: TopField[]; offset: number; field?: number; reason: string; overrun: boolean };

/** Walks the top-level fields of a protobuf message without interpreting them. */
function scanTopLevel(bytes: Uint8Array): TopLevel {
  const reader = Reader.create(bytes);
  const fields: TopField[] = [];
  while (reader.pos < reader.len) {
    const offset = reader.pos;
    let field: number | undefined;
    try {
      const tag = reader.uint32();
      field = tag >>> 3;
      const wire = tag & 7;
      if (field === 0) {
        return { ok: false, fields, offset, field, reason: 'field number 0 is not valid protobuf', overrun: false };
      }
      if (wire === LEN) {
        const length = reader.uint32();
        if (reader.pos + length > reader.len) {
          const reason = `field ${field} declares ${length} bytes but only ${reader.len - reader.pos} remain`;
          return { ok: false, fields, offset, field, reason, overrun: true };
        }
        reader.skip(length);
      } else {
        reader.skipType(wire);
      }
      fields.push({ field, wire, offset });
    } catch (error) {
      const raw = error instanceof Error ? error.message : String(error);
      return { ok: false, fields, offset, field, reason: decoderReason(raw), overrun: /index out of range/.test(raw) };
    }
  }
  return { ok: true, fields };
}

/** The first field whose wire type differs from what `schema` expects (-1 in the schema accepts any). */
function mismatch(fields: TopField[], schema: Map<number, number>) {
  return fields.find((f) => {
    const expected = schema.get(f.field);
    return expected !== undefined && expected !== -1 && expected !== f.wire;
  });
}

/** Largest ModelProto protobuf can represent; larger models must use external data. */
export const MAX_PROTOBUF_BYTES = 2 ** 31 - 1;

/** Decodes and validates a whole ONNX model file held in memory. Throws ModelError. */
type Decoder<T> = { decode(reader: Reader | Uint8Array, length?: number): T };

/** Distinct op types and domains kept at most (a model has tens; a hostile one is not allowed to grow this). */
const MAX_INTERNED = 4096;
const interned = new Map<string, string>();

/** One string object per distinct value (up to MAX_INTERNED), so 1M `Relu` nodes share one `Relu`. */
function intern(value: string): string {
  const known = interned.get(value);
  if (known !== undefined) return known;
  if (interned.size < MAX_INTERNED) interned.set(value, value);
  return value;
}

/** Wraps NodeProto's decoder so that op types and domains are interned (about 20 bytes a node less). */
function internOps(type: Decoder<onnx.NodeProto>): void {
  const decode = type.decode.bind(type);
  type.decode = (reader, length) => {
    const node = decode(reader, length);
    if (node.opType) node.opType = intern(node.opType);
    if (node.domain) node.domain = intern(node.domain);
    return node;
  };
}

/**
 * Wraps a message type's decoder so that its repeated fields come out at their exact length. protobufjs grows
 * them by push(), which reserves 17 slots for the first element: a 1M-node graph held ~300 bytes per node
 * more than its contents. Trimmed as each message is decoded, the oversized lists die young. Same values.
 */
function trimRepeated<T extends object>(type: Decoder<T>, fields: readonly (keyof T & string)[]): void {
  const decode = type.decode.bind(type);
  type.decode = (reader, length) => {
    const message = decode(reader, length) as Record<string, unknown>;
    for (const f of fields) {
      const list = message[f];
      if (Array.isArray(list) && list.length > 0) message[f] = list.slice();
    }
    return message as T;
  };
}

trimRepeated(onnx.NodeProto, ['input', 'output', 'attribute']);
internOps(onnx.NodeProto as unknown as Decoder<onnx.NodeProto>);
trimRepeated(onnx.AttributeProto, ['ints', 'floats', 'strings', 'tensors', 'graphs']);
trimRepeated(onnx.TensorProto, [
  'dims',
  'floatData',
  'int32Data',
  'int64Data',
  'doubleData',
  'uint64Data',
  'stringData',
  'externalData',
]);
trimRepeated(onnx.TensorShapeProto, ['dim']);
trimRepeated(onnx.GraphProto, ['node', 'initializer', 'input', 'output', 'valueInfo']);

export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  checkFileKind(bytes);
  checkTopLevelFields(bytes);
  const model = decodeProtobuf(bytes);
  checkModelHeader(model);
  return model;
}

/** Throws for an empty file or a file of another known format (by its first bytes). */
function checkFileKind(bytes: Uint8Array): void {
  const sniff = sniffFormat(bytes.subarray(0, 64));
  if (sniff.kind === 'empty') {
    throw new ModelError({ code: 'empty-file', message: 'The file is empty (0 bytes): there is no model to read.' });
  }
  if (sniff.kind === 'other') {
    throw new ModelError({
      code: 'other-format',
      message: `This file is a ${sniff.format}, not an ONNX model. ${sniff.hint}`,
    });
  }
}

/** Throws unless the top-level fields are well-formed protobuf and ModelProto's (naming truncated files, TensorProtos). */
function checkTopLevelFields(bytes: Uint8Array): void {
  const top = scanTopLevel(bytes);
  if (!top.ok) {
    // A model cut short still starts with well-formed ModelProto fields; random bytes do not.
    const modelSoFar =
      top.fields.length > 0 && !mismatch(top.fields, MODEL_FIELDS) && MODEL_FIELDS.has(top.field ?? -1);
    const message =
      modelSoFar && top.overrun
        ? `Not a valid ONNX model: the file looks truncated. Decoding stopped at byte ${top.offset} of ${bytes.length}: ${top.reason}.`
        : `Not an ONNX model: the bytes are not ONNX protobuf. Decoding stopped at byte ${top.offset} of ${bytes.length}: ${top.reason}.`;
    throw new ModelError({ code: 'decode-failed', message, offset: top.offset });
  }
  const wrong = mismatch(top.fields, MODEL_FIELDS);
  if (wrong) {
    const looksLikeTensor = !mismatch(top.fields, TENSOR_FIELDS) && top.fields.some((f) => f.field === 2);
    throw new ModelError({
      code: 'not-onnx',
      message:
        `The file is valid protobuf but not an ONNX model: field ${wrong.field} at byte ${wrong.offset} is ` +
        `${WIRE_NAMES[wrong.wire] ?? wrong.wire}, where ModelProto expects ${WIRE_NAMES[MODEL_FIELDS.get(wrong.field)!]}.` +
        (looksLikeTensor
          ? ' It looks like a serialized ONNX TensorProto (such as test data input_0.pb), not a model.'
          : ''),
      offset: wrong.offset,
    });
  }
}

/** protobufjs's decoding, its errors turned into a ModelError with the byte offset. */
function decodeProtobuf(bytes: Uint8Array): onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    const offset = decoderOffset(raw);
    const where = offset === undefined ? '' : ` Decoding stopped at byte ${offset} of ${bytes.length}.`;
    throw new ModelError({
      code: 'decode-failed',
      message: `Not a valid ONNX model: ${decoderReason(raw)}.${where}`,
      offset,
    });
  }
}

/** Throws unless the decoded message has a graph and an IR version. */
function checkModelHeader(model: onnx.ModelProto): void {
  const irVersion = int64ToNumber(model.irVersion as Int64);
  if (!model.graph) {
    throw new ModelError({
      code: 'not-onnx',
      message: 'The file decodes as protobuf but is not an ONNX model: it has no graph (ModelProto field 7).',
    });
  }
  if (irVersion <= 0) {
    throw new ModelError({
      code: 'not-onnx',
      message: 'The file decodes as protobuf but is not an ONNX model: ir_version (ModelProto field 1) is missing.',
    });
  }
}
