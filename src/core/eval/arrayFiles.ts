/** Parsers of array file formats used for evaluation data: NumPy `.npy` and the MNIST IDX format. */

/** A decoded n-dimensional array (values widened to float64 or kept as their typed array). */
export interface NdArray {
  shape: number[];
  data:
    | Float32Array
    | Float64Array
    | Int32Array
    | Uint8Array
    | Int8Array
    | Int16Array
    | Uint16Array
    | Uint32Array
    | BigInt64Array
    | BigUint64Array;
}

const NPY_TYPES: Record<string, [number, (b: ArrayBuffer, o: number, n: number) => NdArray['data']]> = {
  f4: [4, (b, o, n) => new Float32Array(b, o, n)],
  f8: [8, (b, o, n) => new Float64Array(b, o, n)],
  i1: [1, (b, o, n) => new Int8Array(b, o, n)],
  u1: [1, (b, o, n) => new Uint8Array(b, o, n)],
  b1: [1, (b, o, n) => new Uint8Array(b, o, n)],
  i2: [2, (b, o, n) => new Int16Array(b, o, n)],
  u2: [2, (b, o, n) => new Uint16Array(b, o, n)],
  i4: [4, (b, o, n) => new Int32Array(b, o, n)],
  u4: [4, (b, o, n) => new Uint32Array(b, o, n)],
  i8: [8, (b, o, n) => new BigInt64Array(b, o, n)],
  u8: [8, (b, o, n) => new BigUint64Array(b, o, n)],
};

/** The header of a `.npy` file: shape, bytes per value, where the values start, and a typed view maker. */
export interface NpyHeader {
  shape: number[];
  itemBytes: number;
  offset: number;
  view: (buffer: ArrayBuffer, byteOffset: number, length: number) => NdArray['data'];
}

/** Bytes of a `.npy` file's start that hold its whole header (`bytes` holds at least the first 12). */
export function npyHeaderBytes(bytes: Uint8Array): number {
  if (bytes.length < 10) return 10;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bytes[6] === 1 ? 10 + view.getUint16(8, true) : 12 + (bytes.length >= 12 ? view.getUint32(8, true) : 0);
}

/** Reads a `.npy` header (versions 1-3, little-endian or single-byte dtypes, C order). Throws saying what is wrong. */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m))
    throw new Error('not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeMatch) throw new Error(`unreadable .npy header: ${header.trim()}`);
  if (descr[1] === '>' && !descr[2].endsWith('1'))
    throw new Error(`big-endian .npy data (${descr[1]}${descr[2]}) is not supported; save it little-endian`);
  if (fortran[1] === 'True')
    throw new Error('Fortran-order .npy arrays are not supported; save with np.ascontiguousarray');
  const type = NPY_TYPES[descr[2]];
  if (!type) throw new Error(`unsupported .npy dtype '${descr[2]}' (float32/64, int8-64, uint8-64, bool are read)`);
  const shape = shapeMatch[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  return { shape, itemBytes: type[0], offset: start + headerLength, view: type[1] };
}

/** Checks that a `.npy` file of `fileBytes` bytes holds all the values its header promises. */
export function checkNpySize(header: NpyHeader, fileBytes: number): void {
  const n = header.shape.reduce((a, b) => a * b, 1);
  if (fileBytes - header.offset < n * header.itemBytes)
    throw new Error(
      `the .npy data is short: ${fileBytes - header.offset} bytes for ${n} values of ${header.itemBytes} bytes`,
    );
}

/** Parses a whole `.npy` file. Throws saying what is wrong. */
export function parseNpy(bytes: Uint8Array): NdArray {
  const header = parseNpyHeader(bytes);
  checkNpySize(header, bytes.length);
  const n = header.shape.reduce((a, b) => a * b, 1);
  // A real copy (Buffer.slice would return a view into Node's shared pool), aligned for the typed view.
  const copy = new Uint8Array(bytes.subarray(header.offset, header.offset + n * header.itemBytes));
  return { shape: header.shape, data: header.view(copy.buffer, 0, n) };
}

const IDX_TYPES: Record<number, [number, string]> = {
  0x08: [1, 'u8'],
  0x09: [1, 'i8'],
  0x0b: [2, 'i16'],
  0x0c: [4, 'i32'],
  0x0d: [4, 'f32'],
  0x0e: [8, 'f64'],
};

/** Parses an IDX file (already gunzipped): big-endian header, then the values. */
export function parseIdx(bytes: Uint8Array): NdArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || !IDX_TYPES[bytes[2]]) {
    throw new Error('not an IDX file (expected 0x00 0x00 <type> <dims> at the start)');
  }
  const [size, kind] = IDX_TYPES[bytes[2]];
  const dims = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * dims) throw new Error('the IDX header is cut short');
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const n = shape.reduce((a, b) => a * b, 1);
  const offset = 4 + 4 * dims;
  if (bytes.length - offset < n * size)
    throw new Error(`the IDX data is short: ${bytes.length - offset} bytes for ${n} values of ${size} bytes`);
  const read = (i: number): number => {
    const o = offset + i * size;
    switch (kind) {
      case 'i8':
        return view.getInt8(o);
      case 'i16':
        return view.getInt16(o, false);
      case 'i32':
        return view.getInt32(o, false);
      case 'f32':
        return view.getFloat32(o, false);
      default:
        return view.getFloat64(o, false);
    }
  };
  if (kind === 'u8') return { shape, data: new Uint8Array(bytes.subarray(offset, offset + n)) };
  const data = kind === 'f32' ? new Float32Array(n) : kind === 'f64' ? new Float64Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) data[i] = read(i);
  return { shape, data };
}
