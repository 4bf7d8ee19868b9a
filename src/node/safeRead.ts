/**
 * Reading files that may be hostile: only regular files are read (a FIFO, a device or a directory is refused,
 * whatever a symlink points to), and every read is bounded by the size the open file reports.
 */
import { closeSync, constants, fstatSync, openSync, promises as fs, readSync } from 'node:fs';
import { ModelError } from '../core/onnx/errors';

/**
 * Opened with O_NONBLOCK so that opening a FIFO returns at once instead of blocking a libuv thread until a
 * writer appears (four such opens freeze the whole extension host); regular files ignore the flag.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** What a path is once opened, in words for messages ("a FIFO", "a character device", ...). */
function kindOf(stat: {
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isDirectory(): boolean;
  isSocket(): boolean;
}): string {
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isDirectory()) return 'a folder';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Plain words for the errors opening a file can raise (no raw Node text). */
export function ioProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    case 'EISDIR':
      return 'is a folder, not a file';
    case 'ELOOP':
      return 'is a symlink loop';
    case 'ENAMETOOLONG':
      return 'has a path that is too long';
    case 'ENXIO':
    case 'ENODEV':
      return 'is a device or socket, not a file';
    default:
      return `cannot be read (${code ?? (error instanceof Error ? error.name : 'unknown error')})`;
  }
}

/** An open regular file and the size it had when opened. */
export interface RegularFile {
  handle: fs.FileHandle;
  size: number;
}

/** Opens `file` for reading when it (or what its symlinks lead to) is a regular file; ModelError otherwise. */
export async function openRegularFile(file: string, what = `The file ${file}`): Promise<RegularFile> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, OPEN_FLAGS);
  } catch (error) {
    throw new ModelError({ code: 'io', message: `${what} ${ioProblem(error)}.` });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new ModelError({
        code: 'not-a-file',
        message: `${what} is ${kindOf(stat)}; QuantLens reads only regular files.`,
      });
    }
    return { handle, size: stat.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Fills `buffer` from `handle` at `position`; returns the bytes read (fewer only when the file ends). */
export async function readInto(handle: fs.FileHandle, buffer: Uint8Array, position: number): Promise<number> {
  const chunk = 256 * 2 ** 20;
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await handle.read(buffer, done, Math.min(chunk, buffer.length - done), position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/**
 * Reads a whole regular file of at most `limit` bytes (the size fstat reports on the open file, so a file that
 * grows while read is read up to its size at open). Throws ModelError ('too-large' above the limit).
 */
export async function readRegularFile(
  file: string,
  limit: number,
  signal?: AbortSignal,
  what = `The file ${file}`,
): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(file, what);
  try {
    if (size > limit) {
      throw new ModelError({
        code: 'too-large',
        message: `${what} is ${size} bytes; QuantLens reads at most ${limit} bytes here.`,
      });
    }
    signal?.throwIfAborted();
    const buffer = Buffer.allocUnsafe(size);
    const n = await readInto(handle, buffer, 0);
    signal?.throwIfAborted();
    return n === size ? buffer : buffer.subarray(0, n);
  } finally {
    await handle.close();
  }
}

/** An open regular file (synchronous form) and the size it had when opened. */
export interface RegularFileSync {
  fd: number;
  size: number;
}

/**
 * openRegularFile for reads made synchronously while a sample is used (a block of a large `.npy`, an image);
 * the caller closes `fd` (closeSync). Same flags and checks: a FIFO is refused at once, never waited on.
 */
export function openRegularFileSync(file: string, what = `The file ${file}`): RegularFileSync {
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (error) {
    throw new ModelError({ code: 'io', message: `${what} ${ioProblem(error)}.` });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new ModelError({
        code: 'not-a-file',
        message: `${what} is ${kindOf(stat)}; QuantLens reads only regular files.`,
      });
    }
    return { fd, size: stat.size };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Fills `buffer` from `fd` at `position`; returns the bytes read (fewer only when the file ends). */
export function readIntoSync(fd: number, buffer: Uint8Array, position: number): number {
  let done = 0;
  while (done < buffer.length) {
    const n = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** readRegularFile, synchronously (for a file read while a sample is used). */
export function readRegularFileSync(file: string, limit: number, what = `The file ${file}`): Uint8Array {
  const { fd, size } = openRegularFileSync(file, what);
  try {
    if (size > limit) {
      throw new ModelError({
        code: 'too-large',
        message: `${what} is ${size} bytes; QuantLens reads at most ${limit} bytes here.`,
      });
    }
    const buffer = Buffer.allocUnsafe(size);
    const n = readIntoSync(fd, buffer, 0);
    return n === size ? buffer : buffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads an open regular file block by block, up to the size it had when opened (a file that grows is read up
 * to that size; one that shrinks, to its end), calling `onBlock` with each block (a view valid until it returns).
 */
export async function readBlocks(
  file: RegularFile,
  onBlock: (block: Uint8Array) => void,
  blockBytes = 4 * 2 ** 20,
  signal?: AbortSignal,
): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(blockBytes, file.size)));
  let done = 0;
  while (done < file.size) {
    signal?.throwIfAborted();
    const want = Math.min(buffer.length, file.size - done);
    const { bytesRead } = await file.handle.read(buffer, 0, want, done);
    if (bytesRead === 0) break;
    onBlock(buffer.subarray(0, bytesRead));
    done += bytesRead;
  }
  return done;
}
