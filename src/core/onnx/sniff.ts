/** Recognises a file's format from its leading bytes before any decoding is attempted (netron-style). */

/** What the leading bytes say a file is. */
export type SniffResult =
  { kind: 'empty' } | { kind: 'onnx-protobuf' } | { kind: 'other'; format: string; hint: string };

const ascii = (bytes: Uint8Array, start: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(start, start + length));

/** Returns what the first bytes of a file look like. `head` may be a short prefix of the file. */
export function sniffFormat(head: Uint8Array): SniffResult {
  if (head.length === 0) {
    return { kind: 'empty' };
  }
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    return {
      kind: 'other',
      format: 'ZIP archive',
      hint: 'PyTorch checkpoints (.pt/.pth) are ZIP archives; export the model with torch.onnx.export first.',
    };
  }
  if (head.length >= 8 && ascii(head, 4, 4) === 'ORTM') {
    return {
      kind: 'other',
      format: 'ONNX Runtime format (.ort)',
      hint: 'Open the .onnx model the .ort file was converted from.',
    };
  }
  if (head.length >= 8 && ascii(head, 4, 4) === 'TFL3') {
    return {
      kind: 'other',
      format: 'TensorFlow Lite flatbuffer',
      hint: 'QuantLens reads ONNX models; convert with tf2onnx.',
    };
  }
  if (head.length >= 4 && ascii(head, 0, 4) === 'GGUF') {
    return { kind: 'other', format: 'GGUF', hint: 'QuantLens reads ONNX models.' };
  }
  if (head.length >= 8 && head[0] === 0x89 && ascii(head, 1, 3) === 'HDF') {
    return { kind: 'other', format: 'HDF5 (Keras)', hint: 'QuantLens reads ONNX models; convert with tf2onnx.' };
  }
  const text = ascii(head, 0, Math.min(head.length, 64));
  if (/^\s*(ir_version|<\s*ir_version)/.test(text)) {
    return {
      kind: 'other',
      format: 'ONNX text format',
      hint: 'Convert it to binary protobuf (onnx.parser / onnx.save) first.',
    };
  }
  if (/^\s*[{[]/.test(text) && /^[\x09\x0a\x0d\x20-\x7e]*$/.test(text)) {
    return { kind: 'other', format: 'JSON text', hint: 'QuantLens reads binary ONNX protobuf models.' };
  }
  return { kind: 'onnx-protobuf' };
}
