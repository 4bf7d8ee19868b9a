/**
 * Evaluation data: jsonl, csv, npy, npz, idx (optionally gzipped) and folders of PNG/JPEG images, read
 * into fields (one value or array per sample, dataFields.ts). Several sources are joined row by row. Every
 * error names the file and, where it is about one sample, the sample and its line.
 * Memory stays bounded for the sources that hold the bulk of large datasets: a `.npy` file larger than the
 * cache is read a block of rows at a time when its samples are used (dataArrays.ts), and a folder's images
 * are decoded when used, keeping as many as fit in the cache (dataImages.ts; the rest are decoded again when
 * fed). The other formats are read whole.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DataSource } from '../../core/eval/spec';
import { ModelError } from '../../core/onnx/errors';
import { readRegularFile } from '../safeRead';
import { arrayFileField, lazyNpyField, maybeGunzip, npzFields } from './dataArrays';
import { DataProblem, type Dataset, type Field } from './dataFields';
import { imageFields } from './dataImages';
import { csvFields, jsonlFields } from './dataText';

/** Options of readDataset. */
export interface ReadOptions {
  /** Bytes of decoded or read data a large source keeps in memory (default 256 MB). */
  cacheBytes?: number;
}

const CACHE_BYTES = 256 * 2 ** 20;

/**
 * The largest data file read whole (jsonl, csv, npz, idx, a gzipped or cache-sized npy), and what it may
 * decompress to: 2 GiB. Text files stop at 512 MiB, about the longest string V8 holds.
 */
export const DATA_LIMIT = 2 * 2 ** 30;
export const TEXT_LIMIT = 512 * 2 ** 20;

const textOf = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString();

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
    const text = format === 'jsonl' || format === 'csv';
    const raw = await readRegularFile(file, text ? TEXT_LIMIT : DATA_LIMIT, undefined, `Data file '${shown}'`);
    const sha256 = createHash('sha256').update(raw).digest('hex');
    const read =
      format === 'jsonl'
        ? jsonlFields(textOf(maybeGunzip(raw, TEXT_LIMIT)), shown, pointer)
        : format === 'csv'
          ? csvFields(textOf(maybeGunzip(raw, TEXT_LIMIT)), shown, pointer)
          : format === 'npz'
            ? npzFields(raw, shown)
            : arrayFileField(raw, format, source.as!, shown);
    return { ...read, file, sha256 };
  } catch (error) {
    if (error instanceof DataProblem) throw error;
    // The reader's refusals (not a regular file, too large) already name the file.
    if (error instanceof ModelError) throw new DataProblem(`${pointer}/path`, error.message);
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
