/**
 * The one way QuantLens writes files: atomically (a temporary file in the same folder, then rename), never
 * through a symlink, only onto a regular file or a new name, and never over a file it did not make unless the
 * user confirmed (see core/files/writePolicy).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isQuantLensFile, writeDecision, type TargetState } from '../core/files/writePolicy';
import { isExportedModel } from '../core/export/marker';
import { openRegularFile, readInto, readRegularFile } from './safeRead';

/** A write QuantLens refused; `needsConfirmation` when it would overwrite a file it did not make. */
export class WriteRefused extends Error {
  constructor(
    message: string,
    readonly needsConfirmation = false,
  ) {
    super(message);
    this.name = 'WriteRefused';
  }
}

/** Options of safeWriteFile. */
export interface SafeWriteOptions {
  /** The user confirmed overwriting a file QuantLens did not make (`--force`, a modal dialog). */
  force?: boolean;
  /** For names QuantLens derives itself: the folder the file must be in, after resolving symlinks. */
  folder?: string;
}

/** Largest existing file read to look for QuantLens' marker; larger files count as not made by QuantLens. */
const MARKER_READ_LIMIT = 64 * 2 ** 20;

/** What is at `file`, without following a symlink there. */
export async function targetState(file: string): Promise<TargetState> {
  let stat;
  try {
    stat = await fs.lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw new WriteRefused(`${file} cannot be checked before writing (${(error as NodeJS.ErrnoException).code}).`);
  }
  if (stat.isSymbolicLink()) return { kind: 'symlink', to: await fs.readlink(file).catch(() => '?') };
  if (!stat.isFile()) return { kind: 'other', what: stat.isDirectory() ? 'a folder' : 'a special file' };
  if (/\.onnx$/i.test(file)) return { kind: 'file', marked: await hasExportMarker(file) };
  if (stat.size > MARKER_READ_LIMIT) return { kind: 'file', marked: false };
  const text = await readRegularFile(file, MARKER_READ_LIMIT).then(
    (bytes) => new TextDecoder().decode(bytes),
    () => '',
  );
  return { kind: 'file', marked: isQuantLensFile(text) };
}

/** Whether an .onnx file starts with the metadata QuantLens writes first in every model it exports. */
async function hasExportMarker(file: string): Promise<boolean> {
  try {
    const { handle } = await openRegularFile(file);
    try {
      const head = new Uint8Array(64 * 1024);
      const n = await readInto(handle, head, 0);
      return isExportedModel(head.subarray(0, n));
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}

/** Checks that `file`'s folder is `folder` once symlinks are resolved (derived names stay where they belong). */
async function checkFolder(file: string, folder: string): Promise<void> {
  const [actual, expected] = await Promise.all([
    fs.realpath(path.dirname(file)).catch(() => undefined),
    fs.realpath(folder).catch(() => undefined),
  ]);
  if (!actual || !expected || actual !== expected) {
    throw new WriteRefused(`${file} is not inside ${folder} once symlinks are resolved; QuantLens does not write it.`);
  }
}

/** Writes `data` to `file` under the rules above; throws WriteRefused when it may not. */
export async function safeWriteFile(
  file: string,
  data: string | Uint8Array,
  options: SafeWriteOptions = {},
): Promise<void> {
  await safeWriteStream(file, (handle) => handle.writeFile(data), options);
}

/**
 * Writes `file` under the rules above with `write` filling the temporary file piece by piece (large outputs
 * never held whole); a throw from `write` (a cancel) removes the temporary file, so nothing is left.
 */
export async function safeWriteStream(
  file: string,
  write: (handle: fs.FileHandle) => Promise<void>,
  options: SafeWriteOptions = {},
): Promise<void> {
  const target = path.resolve(file);
  if (options.folder) await checkFolder(target, options.folder);
  const decision = writeDecision(target, await targetState(target), options.force);
  if (decision.action !== 'write') throw new WriteRefused(decision.reason, decision.action === 'confirm');
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  // 'wx': O_CREAT | O_EXCL, so the temporary name is new (a symlink planted there makes the open fail).
  const handle = await fs.open(temp, 'wx', 0o644);
  try {
    await write(handle);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    // rename replaces a directory entry: even a link planted since the check is replaced, not written through.
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
