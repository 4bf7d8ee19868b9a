/**
 * Evaluation data: jsonl, csv, npy, npz, idx (optionally gzipped) and folders of PNG/JPEG images, read
 * into fields (one value or array per sample). Several sources are joined row by row. Every error names
 * the file and, where it is about one sample, the sample and its line.
 * Memory stays bounded for the sources that hold the bulk of large datasets: a `.npy` file larger than the
 * cache is read a block of rows at a time when its samples are used, and a folder's images are decoded when
 * used, keeping as many as fit in the cache (the rest are decoded again when fed). The other formats are
 * read whole.
 */
import { createHash } from 'node:crypto';
import { createReadStream, closeSync, openSync, readFileSync, readSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import { unzipSync } from 'fflate';
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import {
  checkNpySize,
  npyHeaderBytes,
  parseIdx,
  parseNpy,
  parseNpyHeader,
  type NdArray,
} from '../../core/eval/arrayFiles';
import type { DataSource, ImageOptions } from '../../core/eval/spec';

/** A problem with the data, at a JSON pointer of the spec. */
export class DataProblem extends Error {
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(message);
  }
}

/** One field of every sample. */
export interface Field {
  name: string;
  /** The file it comes from (relative to the spec, for messages). */
  file: string;
  /** Shape of one sample's value ([] for a scalar), as in the first sample. */
  shape: number[];
  /** Scalar value of sample i (undefined when not a scalar). */
  scalar(i: number): number | string | undefined;
  /** Numeric values of sample i (throws DataProblem naming the sample when they are not numbers). */
  values(i: number): ArrayLike<number>;
  /** Where sample i is, for messages: "line 18 of data.jsonl". */
  where(i: number): string;
}

/** The joined samples. */
export interface Dataset {
  count: number;
  fields: Map<string, Field>;
  /** Data sources read (absolute paths) with the SHA-256 of their bytes ('folder' for image folders). */
  files: { file: string; sha256: string }[];
}

/** Options of readDataset. */
export interface ReadOptions {
  /** Bytes of decoded or read data a large source keeps in memory (default 256 MB). */
  cacheBytes?: number;
}

const CACHE_BYTES = 256 * 2 ** 20;

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * A field backed by one n-d array whose first axis is the sample: in memory, or read a row at a time by
 * `row` (then `array.data` only gives the type).
 */
function arrayField(name: string, file: string, array: NdArray, row?: (i: number) => NdArray['data']): Field {
  const shape = array.shape.slice(1);
  const n = size(shape);
  const { data } = array;
  const big = data instanceof BigInt64Array || data instanceof BigUint64Array;
  const values = row ?? ((i: number): NdArray['data'] => data.subarray(i * n, (i + 1) * n));
  return {
    name,
    file,
    shape,
    scalar: (i) => (n === 1 ? Number(values(i)[0]) : undefined),
    values: (i) => (big ? Array.from(values(i) as BigInt64Array, Number) : (values(i) as Float32Array)),
    where: (i) => `sample ${i} of ${file}`,
  };
}

type Json = number | string | boolean | null | Json[] | { [k: string]: Json };

function shapeOf(v: Json): number[] {
  return Array.isArray(v) ? [v.length, ...(v.length > 0 ? shapeOf(v[0]) : [])] : [];
}

/** A field backed by one value per sample (jsonl/csv rows); `pointer` is its source's place in the spec. */
function listField(name: string, file: string, rows: Json[], where: (i: number) => string, pointer: string): Field {
  const shape = shapeOf(rows[0]);
  return {
    name,
    file,
    shape,
    scalar: (i) => {
      const v = rows[i];
      return typeof v === 'number' || typeof v === 'string' ? v : typeof v === 'boolean' ? Number(v) : undefined;
    },
    values: (i) => {
      const v = rows[i];
      const flat = Array.isArray(v) ? (v as Json[]).flat(Infinity as 1) : [v];
      for (let k = 0; k < flat.length; k++) {
        if (typeof flat[k] !== 'number') {
          throw new DataProblem(
            pointer,
            `Field '${name}' of ${where(i)} holds ${JSON.stringify(flat[k])} where a number is expected.`,
          );
        }
      }
      return flat as number[];
    },
    where,
  };
}

/** The format of a source: given, or from its name (a folder holds images). */
async function formatOf(source: DataSource, file: string): Promise<NonNullable<DataSource['format']>> {
  if (source.format) return source.format;
  const stat = await fs.stat(file);
  if (stat.isDirectory()) return 'images';
  const name = path.basename(file).toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.npy')) return 'npy';
  if (name.endsWith('.npz')) return 'npz';
  if (name.endsWith('.idx') || /-ubyte$/.test(name) || /\.idx\d-ubyte$/.test(name)) return 'idx';
  throw new Error(
    `cannot tell the format of '${source.path}' from its name; set "format" (jsonl, csv, npy, npz, idx, images)`,
  );
}

const maybeGunzip = (bytes: Uint8Array): Uint8Array =>
  bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;

function jsonlFields(text: string, file: string, pointer: string): { count: number; fields: Field[] } {
  const lines = text.split(/\r?\n/);
  const records: { [k: string]: Json }[] = [];
  const lineOf: number[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: Json;
    try {
      value = JSON.parse(line) as Json;
    } catch (error) {
      throw new Error(`line ${i + 1} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error(`line ${i + 1} is not a JSON object`);
    records.push(value);
    lineOf.push(i + 1);
  });
  if (records.length === 0) throw new Error('it holds no samples');
  const where = (i: number): string => `sample ${i} (line ${lineOf[i]} of ${file})`;
  const names = Object.keys(records[0]);
  const fields = names.map((name) => {
    const rows = records.map((r, i) => {
      if (!(name in r)) throw new Error(`${where(i)} has no field '${name}' (the first sample has it)`);
      return r[name];
    });
    return listField(name, file, rows, where, pointer);
  });
  return { count: records.length, fields };
}

function csvFields(text: string, file: string, pointer: string): { count: number; fields: Field[] } {
  const records = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  if (records.length === 0) throw new Error('it holds no rows');
  const where = (i: number): string => `sample ${i} (line ${i + 2} of ${file})`;
  const fields = Object.keys(records[0]).map((name) => {
    const rows = records.map((r) => {
      const v = r[name];
      const n = Number(v);
      return v !== '' && Number.isFinite(n) ? n : v;
    });
    return listField(name, file, rows, where, pointer);
  });
  return { count: records.length, fields };
}

/** Bilinear resize of an interleaved HWC image (values 0..255). */
function resize(src: Float32Array, h: number, w: number, c: number, oh: number, ow: number): Float32Array {
  if (h === oh && w === ow) return src;
  const out = new Float32Array(oh * ow * c);
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / oh - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(h - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < ow; x++) {
      const sx = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / ow - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(w - 1, x0 + 1);
      const fx = sx - x0;
      for (let k = 0; k < c; k++) {
        const a = src[(y0 * w + x0) * c + k] * (1 - fx) + src[(y0 * w + x1) * c + k] * fx;
        const b = src[(y1 * w + x0) * c + k] * (1 - fx) + src[(y1 * w + x1) * c + k] * fx;
        out[(y * ow + x) * c + k] = a * (1 - fy) + b * fy;
      }
    }
  }
  return out;
}

/** Decodes and preprocesses one image into a CHW or HWC float tensor. */
export function preprocessImage(
  bytes: Uint8Array,
  file: string,
  options: ImageOptions,
): { data: Float32Array; shape: number[] } {
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  if (bytes[0] === 0x89 && bytes[1] === 0x50) {
    const png = PNG.sync.read(Buffer.from(bytes));
    rgba = png.data;
    width = png.width;
    height = png.height;
  } else if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const jpeg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true });
    rgba = jpeg.data;
    width = jpeg.width;
    height = jpeg.height;
  } else {
    throw new Error(`${file} is neither PNG nor JPEG`);
  }
  const c = options.channels === 'gray' ? 1 : 3;
  const hwc = new Float32Array(width * height * c);
  for (let p = 0; p < width * height; p++) {
    if (c === 1) hwc[p] = 0.299 * rgba[4 * p] + 0.587 * rgba[4 * p + 1] + 0.114 * rgba[4 * p + 2];
    else for (let k = 0; k < 3; k++) hwc[3 * p + k] = rgba[4 * p + k];
  }
  const [oh, ow] = options.size ?? [height, width];
  const resized = resize(hwc, height, width, c, oh, ow);
  const scale = options.scale ?? 1 / 255;
  const mean = options.mean ?? [];
  const std = options.std ?? [];
  const nchw = (options.layout ?? 'NCHW') === 'NCHW';
  const out = new Float32Array(resized.length);
  for (let p = 0; p < oh * ow; p++) {
    for (let k = 0; k < c; k++) {
      const v = (resized[p * c + k] * scale - (mean[k] ?? mean[0] ?? 0)) / (std[k] ?? std[0] ?? 1);
      out[nchw ? k * oh * ow + p : p * c + k] = v;
    }
  }
  return { data: out, shape: nchw ? [c, oh, ow] : [oh, ow, c] };
}

/**
 * A folder of images: PNG/JPEG files, or one subfolder of them per class (fields 'label' and 'class'). Images
 * are decoded when a sample is used (the spec's checks use every selected one before inference), and kept
 * while they fit in `cacheBytes`; the first is decoded here for the shape.
 */
async function imageFields(
  folder: string,
  file: string,
  options: ImageOptions,
  pointer: string,
  cacheBytes: number,
): Promise<{ count: number; fields: Field[] }> {
  const { items, classes } = await listImages(folder);
  const decode = (i: number): { data: Float32Array; shape: number[] } => {
    try {
      return preprocessImage(readFileSync(path.join(folder, items[i].file)), items[i].file, options);
    } catch (error) {
      throw new DataProblem(
        `${pointer}/path`,
        `Data folder '${file}': image ${items[i].file}: ${error instanceof Error ? error.message : String(error)}.`,
      );
    }
  };
  const first = decode(0);
  const { shape } = first;
  const kept = new Map<number, Float32Array>([[0, first.data]]);
  let keptBytes = first.data.byteLength;
  const image = (i: number): Float32Array => {
    const known = kept.get(i);
    if (known) return known;
    const decoded = decode(i);
    if (decoded.shape.join() !== shape.join()) {
      throw new DataProblem(
        `${pointer}/path`,
        `Data folder '${file}': image ${items[i].file} is ${decoded.shape.join('x')} after preprocessing, the first was ${shape.join('x')}; set image.size to resize them all.`,
      );
    }
    if (keptBytes + decoded.data.byteLength <= cacheBytes) {
      kept.set(i, decoded.data);
      keptBytes += decoded.data.byteLength;
    }
    return decoded.data;
  };
  const where = (i: number): string => `sample ${i} (${items[i].file} in ${file})`;
  const fields: Field[] = [
    { name: 'image', file, shape, scalar: (i) => (size(shape) === 1 ? image(i)[0] : undefined), values: image, where },
  ];
  fields.push(
    listField(
      'file',
      file,
      items.map((it) => it.file),
      where,
      pointer,
    ),
  );
  if (classes.length > 0) {
    fields.push(
      listField(
        'label',
        file,
        items.map((it) => it.label!),
        where,
        pointer,
      ),
    );
    fields.push(
      listField(
        'class',
        file,
        items.map((it) => it.cls!),
        where,
        pointer,
      ),
    );
  }
  return { count: items.length, fields };
}

/** The images of a folder, sorted: its own, or those of its subfolders (one per class, label = index). */
async function listImages(
  folder: string,
): Promise<{ items: { file: string; label?: number; cls?: string }[]; classes: string[] }> {
  const isImage = (n: string): boolean => /\.(png|jpe?g)$/i.test(n);
  const entries = await fs.readdir(folder, { withFileTypes: true });
  const classes = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const items: { file: string; label?: number; cls?: string }[] = [];
  if (classes.length > 0) {
    for (const [label, cls] of classes.entries()) {
      for (const name of (await fs.readdir(path.join(folder, cls))).filter(isImage).sort())
        items.push({ file: path.join(cls, name), label, cls });
    }
  } else {
    for (const name of entries
      .filter((e) => e.isFile() && isImage(e.name))
      .map((e) => e.name)
      .sort())
      items.push({ file: name });
  }
  if (items.length === 0) throw new Error('it holds no PNG or JPEG images');
  return { items, classes };
}

/** Reads `length` bytes of a file at `position` (synchronously: fields are read when a sample is used). */
function readAt(file: string, position: number, length: number): Uint8Array {
  const buffer = new Uint8Array(length);
  const fd = openSync(file, 'r');
  try {
    for (let done = 0; done < length;) {
      const n = readSync(fd, buffer, done, length - done, position + done);
      if (n === 0) throw new Error(`the file ends at byte ${position + done} (was it changed while in use?)`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return buffer;
}

/**
 * A `.npy` file larger than the cache (undefined when it is gzipped: that one is read whole). Its header is
 * read here and the file hashed as a stream; a sample's values are read with the block of rows that starts
 * at it (about `cacheBytes` / 16, at least one row), so that samples used in order, as the evaluation uses
 * them, are read once.
 */
async function lazyNpyField(
  file: string,
  name: string,
  shown: string,
  pointer: string,
  fileBytes: number,
  cacheBytes: number,
): Promise<{ count: number; field: Field; sha256: string } | undefined> {
  const start = readAt(file, 0, Math.min(12, fileBytes));
  if (start[0] === 0x1f && start[1] === 0x8b) return undefined;
  const header = parseNpyHeader(readAt(file, 0, Math.min(npyHeaderBytes(start), fileBytes)));
  checkNpySize(header, fileBytes);
  if (header.shape.length === 0) throw new Error('it holds a scalar, not one value per sample');
  const count = header.shape[0];
  const n = size(header.shape.slice(1));
  const rowBytes = n * header.itemBytes;
  const blockRows = Math.max(1, Math.floor(cacheBytes / 16 / Math.max(1, rowBytes)));
  let block = { first: 0, rows: 0, data: header.view(new ArrayBuffer(0), 0, 0) };
  const row = (i: number): NdArray['data'] => {
    if (i < block.first || i >= block.first + block.rows) {
      const rows = Math.min(blockRows, count - i);
      let bytes: Uint8Array;
      try {
        bytes = readAt(file, header.offset + i * rowBytes, rows * rowBytes);
      } catch (error) {
        throw new DataProblem(
          `${pointer}/path`,
          `Data file '${shown}': reading sample ${i}: ${error instanceof Error ? error.message : String(error)}.`,
        );
      }
      block = { first: i, rows, data: header.view(bytes.buffer as ArrayBuffer, 0, rows * n) };
    }
    return block.data.subarray((i - block.first) * n, (i - block.first + 1) * n);
  };
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return {
    count,
    field: arrayField(name, shown, { shape: header.shape, data: block.data }, row),
    sha256: hash.digest('hex'),
  };
}

/** Reads one source into fields. `specDir` resolves its path; `pointer` is its place in the spec. */
async function readSource(
  source: DataSource,
  specDir: string,
  pointer: string,
  cacheBytes: number,
): Promise<{ count: number; fields: Field[]; file: string; sha256: string }> {
  const file = path.resolve(specDir, source.path);
  const shown = source.path;
  try {
    await fs.access(file);
  } catch {
    throw new DataProblem(`${pointer}/path`, `Data file '${shown}' does not exist (looked for ${file}).`);
  }
  try {
    const format = await formatOf(source, file);
    if ((format === 'npy' || format === 'idx') && !source.as) {
      throw new DataProblem(`${pointer}`, `'${shown}' holds one array: name its field with "as" (e.g. "as": "image").`);
    }
    if (format === 'images')
      return { ...(await imageFields(file, shown, source.image ?? {}, pointer, cacheBytes)), file, sha256: 'folder' };
    if (format === 'npy') {
      const { size: fileBytes } = await fs.stat(file);
      const lazy =
        fileBytes > cacheBytes
          ? await lazyNpyField(file, source.as!, shown, pointer, fileBytes, cacheBytes)
          : undefined;
      if (lazy) return { count: lazy.count, fields: [lazy.field], file, sha256: lazy.sha256 };
    }
    // Each file is read once: parsed, and hashed for the results.
    const raw = await fs.readFile(file);
    const sha256 = createHash('sha256').update(raw).digest('hex');
    switch (format) {
      case 'jsonl':
        return { ...jsonlFields(maybeGunzip(raw).toString(), shown, pointer), file, sha256 };
      case 'csv':
        return { ...csvFields(maybeGunzip(raw).toString(), shown, pointer), file, sha256 };
      case 'npy':
      case 'idx': {
        const bytes = maybeGunzip(raw);
        const array = format === 'npy' ? parseNpy(bytes) : parseIdx(bytes);
        if (array.shape.length === 0) throw new Error('it holds a scalar, not one value per sample');
        return { count: array.shape[0], fields: [arrayField(source.as!, shown, array)], file, sha256 };
      }
      case 'npz': {
        const members = unzipSync(raw);
        const arrays = Object.entries(members)
          .filter(([n]) => n.endsWith('.npy'))
          .map(([n, bytes]) => {
            try {
              return { name: n.replace(/\.npy$/, ''), array: parseNpy(bytes) };
            } catch (error) {
              throw new Error(`member ${n}: ${error instanceof Error ? error.message : String(error)}`);
            }
          });
        if (arrays.length === 0) throw new Error('it holds no .npy arrays');
        const first = arrays[0].array.shape[0];
        for (const { name, array } of arrays) {
          if (array.shape[0] !== first)
            throw new Error(
              `its arrays differ in length: '${arrays[0].name}' has ${first} samples, '${name}' has ${array.shape[0]}`,
            );
        }
        const fields = arrays.map(({ name, array }) => arrayField(name, shown, array));
        return { count: first, fields, file, sha256 };
      }
    }
  } catch (error) {
    if (error instanceof DataProblem) throw error;
    throw new DataProblem(
      `${pointer}/path`,
      `Data file '${shown}': ${error instanceof Error ? error.message : String(error)}.`,
    );
  }
}

/** Reads every source and joins them row by row. */
export async function readDataset(
  sources: readonly DataSource[],
  specDir: string,
  single: boolean,
  options: ReadOptions = {},
): Promise<Dataset> {
  const fields = new Map<string, Field>();
  const files: Dataset['files'] = [];
  let count = -1;
  let first = '';
  for (const [i, source] of sources.entries()) {
    const pointer = single ? '/data' : `/data/${i}`;
    const read = await readSource(source, specDir, pointer, options.cacheBytes ?? CACHE_BYTES);
    files.push({ file: read.file, sha256: read.sha256 });
    if (count >= 0 && read.count !== count) {
      throw new DataProblem(
        pointer,
        `'${source.path}' has ${read.count} samples but '${first}' has ${count}: joined sources need the same number of rows.`,
      );
    }
    count = read.count;
    first ||= source.path;
    for (const f of read.fields) {
      if (fields.has(f.name))
        throw new DataProblem(
          pointer,
          `Field '${f.name}' comes from both '${fields.get(f.name)!.file}' and '${f.file}'.`,
        );
      fields.set(f.name, f);
    }
  }
  return { count, fields, files };
}
