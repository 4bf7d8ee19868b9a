/**
 * Array data sources: npy, npz and idx files (optionally gzipped). A `.npy` file larger than the cache is read a
 * block of rows at a time when its samples are used; the others are read whole.
 */
import { createHash } from 'node:crypto';
import { closeSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import {
  checkNpySize,
  npyHeaderBytes,
  parseIdx,
  parseNpy,
  parseNpyHeader,
  type NdArray,
} from '../../core/eval/arrayFiles';
import { ModelError } from '../../core/onnx/errors';
import { openRegularFile, openRegularFileSync, readBlocks, readIntoSync } from '../safeRead';
import { arrayField, DataProblem, size, type Field } from './dataFields';

/** What a gzipped or zipped data file may decompress to (data.ts DATA_LIMIT: 2 GiB). */
const UNPACKED_LIMIT = 2 * 2 ** 30;

/** The bytes, gunzipped when they are gzip (to at most `limit` bytes: a small file may unpack to gigabytes). */
export function maybeGunzip(bytes: Uint8Array, limit = UNPACKED_LIMIT): Uint8Array {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new Error(`it decompresses to more than ${limit} bytes, more than QuantLens reads`);
    throw new Error(`it is not valid gzip (${(error as Error).message})`);
  }
}

/**
 * Reads `length` bytes of a file at `position` (synchronously: fields are read when a sample is used); the
 * file must still be a regular file holding them.
 */
function readAt(file: string, shown: string, position: number, length: number): Uint8Array {
  const buffer = new Uint8Array(length);
  const { fd, size: fileBytes } = openRegularFileSync(file, `Data file '${shown}'`);
  try {
    if (position + length > fileBytes)
      throw new Error(`the file ends at byte ${fileBytes} (was it changed while in use?)`);
    const n = readIntoSync(fd, buffer, position);
    if (n < length) throw new Error(`the file ends at byte ${position + n} (was it changed while in use?)`);
  } finally {
    closeSync(fd);
  }
  return buffer;
}

/** SHA-256 of a file, read block by block up to its size when opened. */
async function hashFile(file: string, shown: string): Promise<string> {
  const hash = createHash('sha256');
  const opened = await openRegularFile(file, `Data file '${shown}'`);
  try {
    await readBlocks(opened, (block) => hash.update(block));
  } finally {
    await opened.handle.close();
  }
  return hash.digest('hex');
}

/**
 * A `.npy` file larger than the cache (undefined when it is gzipped: that one is read whole). Its header is
 * read here and the file hashed as a stream; a sample's values are read with the block of rows that starts
 * at it (about `cacheBytes` / 16, at least one row), so that samples used in order, as the evaluation uses
 * them, are read once.
 */
export async function lazyNpyField(
  file: string,
  name: string,
  shown: string,
  pointer: string,
  fileBytes: number,
  cacheBytes: number,
): Promise<{ count: number; field: Field; sha256: string } | undefined> {
  const start = readAt(file, shown, 0, Math.min(12, fileBytes));
  if (start[0] === 0x1f && start[1] === 0x8b) return undefined;
  const header = parseNpyHeader(readAt(file, shown, 0, Math.min(npyHeaderBytes(start), fileBytes)));
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
        bytes = readAt(file, shown, header.offset + i * rowBytes, rows * rowBytes);
      } catch (error) {
        if (error instanceof ModelError) throw new DataProblem(`${pointer}/path`, error.message);
        throw new DataProblem(
          `${pointer}/path`,
          `Data file '${shown}': reading sample ${i}: ${error instanceof Error ? error.message : String(error)}.`,
        );
      }
      block = { first: i, rows, data: header.view(bytes.buffer as ArrayBuffer, 0, rows * n) };
    }
    return block.data.subarray((i - block.first) * n, (i - block.first + 1) * n);
  };
  return {
    count,
    field: arrayField(name, shown, { shape: header.shape, data: block.data }, row),
    sha256: await hashFile(file, shown),
  };
}

/** The fields of an npz archive: one per `.npy` member, all of the same length. */
export function npzFields(raw: Uint8Array, shown: string): { count: number; fields: Field[] } {
  const members = unzipSync(raw, {
    filter: (member) => {
      // Sizes as the archive declares them: refused before anything is unpacked.
      if (member.originalSize > UNPACKED_LIMIT)
        throw new Error(`member ${member.name} unpacks to ${member.originalSize} bytes, more than QuantLens reads`);
      return member.name.endsWith('.npy');
    },
  });
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
  return { count: first, fields: arrays.map(({ name, array }) => arrayField(name, shown, array)) };
}

/** The field of an npy or idx file read whole (`as`: its name). */
export function arrayFileField(
  raw: Uint8Array,
  format: 'npy' | 'idx',
  as: string,
  shown: string,
): { count: number; fields: Field[] } {
  const bytes = maybeGunzip(raw);
  const array = format === 'npy' ? parseNpy(bytes) : parseIdx(bytes);
  if (array.shape.length === 0) throw new Error('it holds a scalar, not one value per sample');
  return { count: array.shape[0], fields: [arrayField(as, shown, array)] };
}
