/**
 * One unit of analysis work: a weight's values (read from a byte range of a file, or handed over decoded),
 * optionally dequantized, analysed under the selected schemes. Runs in an analysis worker; the same code
 * runs in-thread for tests.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import * as path from 'node:path';
import { DType } from '../core/onnx/dtypes';
import { ModelError } from '../core/onnx/errors';
import { decodeRaw, type NumericArray } from '../core/onnx/tensorValues';
import type { Layout2D } from '../core/quant/fakeQuant';
import { transposeChannels, type ChannelTranspose } from '../core/quant/roles';
import { parseScheme } from '../core/quant/schemes';
import { dequantize, type DequantInput } from '../core/quant/storedQuant';
import { analyzeTensor, type TensorAnalysis, type ValueSource } from '../core/stats/analyze';
import { cellRanges, channelSqnr, type DetailResult } from '../core/stats/layerDetail';

/** Where a tensor's values come from. */
export type TensorSource =
  /** `length` bytes at `offset` of `file` (raw_data inside the model, or external data), of ONNX type `dtype`. */
  | { kind: 'file'; file: string; offset: number; length: number; dtype: number; elements: number }
  /** Values decoded already (typed fields, Constant attributes). */
  | { kind: 'values'; values: NumericArray };

/** What to analyse. */
export interface AnalysisTask {
  /** Tensor name (for errors). */
  tensor: string;
  /** The model file (for errors). */
  model: string;
  source: TensorSource;
  layout?: Layout2D;
  /** Channels on a middle axis: transpose to [channels, rest] before analysing (layout is of that view). */
  transpose?: ChannelTranspose;
  /** Scheme ids. */
  schemes: string[];
  bins: number;
  /** Set for stored-quantized weights: dequantize before analysing. */
  dequant?: DequantInput;
  /** Return the per-channel x per-block SQNR grids (default true; the CLI's report does not need them). */
  grids?: boolean;
  /** Layer detail under this scheme id: cell ranges and per-channel SQNR (`schemes` should then be empty). */
  detail?: string;
}

/** A task's result and how long reading and analysing took. */
export interface AnalysisResult {
  analysis: TensorAnalysis;
  readMs: number;
  analyzeMs: number;
  detail?: DetailResult;
}

/** Largest single read; fs reads are limited to 2 GiB each. */
const READ_CHUNK = 256 * 2 ** 20;

/** Reads `length` bytes at `offset` of a file into `into` (or a new buffer). */
export function readRange(file: string, offset: number, length: number, into?: Uint8Array): Uint8Array {
  const fd = openRegularSync(file);
  try {
    const size = fstatSync(fd).size;
    if (size < offset + length) {
      throw new Error(`the file ends at byte ${size}, ${offset + length - size} bytes before the tensor's end`);
    }
    const buffer = into ?? new Uint8Array(length);
    readFully(fd, buffer, offset);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

/** Opens a regular file without blocking on a FIFO (O_NONBLOCK); anything else is refused. */
function openRegularSync(file: string): number {
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new Error('it is no longer a regular file');
  }
  return fd;
}

/** Fills `buffer` from an open file at `position` (in reads of at most READ_CHUNK); throws when the file ends first. */
function readFully(fd: number, buffer: Uint8Array, position: number): void {
  for (let done = 0; done < buffer.length;) {
    const n = readSync(fd, buffer, done, Math.min(READ_CHUNK, buffer.length - done), position + done);
    if (n === 0) {
      throw new Error(
        `the file ends at byte ${position + done}, ${buffer.length - done} bytes before the tensor's end`,
      );
    }
    done += n;
  }
}

/**
 * A read buffer reused from task to task (one per thread): a worker holds at most one tensor's bytes, and
 * large buffers do not pile up waiting for the garbage collector.
 */
let scratch = new ArrayBuffer(0);
function scratchBytes(length: number): Uint8Array {
  if (scratch.byteLength < length) {
    scratch = new ArrayBuffer(0); // release the old one before allocating the larger
    scratch = new ArrayBuffer(length);
  }
  return new Uint8Array(scratch, 0, length);
}

/**
 * The tensor's values as float32 (dequantized for stored-quantized weights). With `reuse`, float32 values
 * are read into this thread's scratch buffer and are only valid until the next call.
 */
export function taskValues(task: AnalysisTask, reuse = false): Float32Array {
  const { source } = task;
  let values: NumericArray;
  try {
    if (source.kind === 'file') {
      const bytes = readRange(
        source.file,
        source.offset,
        source.length,
        reuse ? scratchBytes(source.length) : undefined,
      );
      values = decodeRaw(bytes, source.dtype, source.elements, true);
    } else {
      values = source.values;
    }
  } catch (error) {
    throw decodeFailed(task, error);
  }
  const floats = task.dequant
    ? dequantize(values, task.dequant)
    : values instanceof Float32Array
      ? values
      : Float32Array.from(values);
  return task.transpose ? transposeChannels(floats, task.transpose) : floats;
}

const decodeFailed = (task: AnalysisTask, error: unknown): ModelError =>
  new ModelError({
    code: 'decode-failed',
    message: `Tensor '${task.tensor}' in ${path.basename(task.model)} cannot be read: ${error instanceof Error ? error.message : String(error)}.`,
    tensor: task.tensor,
  });

/**
 * Plain float32 values in a file, analysed without a layer detail, go to the kernels a chunk at a time
 * straight from the file: no buffer of the whole tensor. (Rows must be a multiple of 4 values, and the host
 * little-endian like ONNX's raw data.)
 */
function streamable(task: AnalysisTask): task is AnalysisTask & { source: { kind: 'file' } } {
  return (
    task.source.kind === 'file' &&
    task.source.dtype === DType.float32 &&
    !task.dequant &&
    !task.transpose &&
    task.detail === undefined &&
    (!task.layout || task.layout.cols % 4 === 0) &&
    endianness() === 'LE'
  );
}

/** Reads a float32 file range piecewise; errors name the tensor. Close it when done. */
function fileValues(
  task: AnalysisTask,
  source: Extract<TensorSource, { kind: 'file' }>,
): ValueSource & { close(): void } {
  if (source.length < source.elements * 4) {
    throw decodeFailed(
      task,
      new Error(`${source.elements} float32 values need ${source.elements * 4} bytes, found ${source.length}`),
    );
  }
  let fd: number;
  try {
    fd = openRegularSync(source.file);
  } catch (error) {
    throw decodeFailed(task, error);
  }
  const size = fstatSync(fd).size;
  if (size < source.offset + source.length) {
    closeSync(fd);
    throw decodeFailed(
      task,
      new Error(`the file ends at byte ${size}, ${source.offset + source.length - size} bytes before the tensor's end`),
    );
  }
  return {
    length: source.elements,
    read(start: number, end: number, into: Float32Array): void {
      try {
        readFully(fd, new Uint8Array(into.buffer, into.byteOffset, (end - start) * 4), source.offset + start * 4);
      } catch (error) {
        throw decodeFailed(task, error);
      }
    },
    close: () => closeSync(fd),
  };
}

/** Runs one task (`reuse`: read into this thread's scratch buffer, as workers do). */
export function runAnalysisTask(task: AnalysisTask, reuse = false): AnalysisResult {
  const t0 = performance.now();
  const schemes = task.schemes.map(parseScheme);
  // Without grids (the CLI's report) no heatmap values are made: a 4096 x 4096 weight has 512 Ki block cells per scheme.
  const options = { bins: task.bins, grids: task.grids !== false };
  if (streamable(task)) {
    const source = fileValues(task, task.source);
    try {
      return {
        analysis: analyzeTensor(source, task.layout, schemes, options),
        readMs: 0,
        analyzeMs: performance.now() - t0,
      };
    } finally {
      source.close();
    }
  }
  const values = taskValues(task, reuse);
  const t1 = performance.now();
  const analysis = analyzeTensor(values, task.layout, schemes, options);
  const detail =
    task.detail === undefined
      ? undefined
      : {
          ranges: cellRanges(values, task.layout),
          channelSqnr: channelSqnr(values, task.layout, parseScheme(task.detail)),
        };
  return { analysis, readMs: t1 - t0, analyzeMs: performance.now() - t1, ...(detail ? { detail } : {}) };
}
