/**
 * One unit of analysis work: a weight's values (read from a byte range of a file, or handed over decoded),
 * optionally dequantized, analysed under the selected schemes. Runs in an analysis worker; the same code
 * runs in-thread for tests.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../core/onnx/errors';
import { decodeRaw, type NumericArray } from '../core/onnx/tensorValues';
import type { Layout2D } from '../core/quant/fakeQuant';
import { parseScheme } from '../core/quant/schemes';
import { dequantize, type DequantInput } from '../core/quant/storedQuant';
import { analyzeTensor, type TensorAnalysis } from '../core/stats/analyze';

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
  /** Scheme ids. */
  schemes: string[];
  bins: number;
  /** Set for stored-quantized weights: dequantize before analysing. */
  dequant?: DequantInput;
}

/** A task's result and how long reading and analysing took. */
export interface AnalysisResult {
  analysis: TensorAnalysis;
  readMs: number;
  analyzeMs: number;
}

/** Largest single read; fs reads are limited to 2 GiB each. */
const READ_CHUNK = 256 * 2 ** 20;

/** Reads `length` bytes at `offset` of a file into a new buffer. */
export function readRange(file: string, offset: number, length: number): Uint8Array {
  const buffer = new Uint8Array(length);
  const fd = openSync(file, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buffer, done, Math.min(READ_CHUNK, length - done), offset + done);
      if (n === 0) {
        throw new Error(`the file ends at byte ${offset + done}, ${length - done} bytes before the tensor's end`);
      }
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return buffer;
}

/** The tensor's values as float32 (dequantized for stored-quantized weights). */
export function taskValues(task: AnalysisTask): Float32Array {
  const { source } = task;
  let values: NumericArray;
  try {
    if (source.kind === 'file') {
      const bytes = readRange(source.file, source.offset, source.length);
      values = decodeRaw(bytes, source.dtype, source.elements, true);
    } else {
      values = source.values;
    }
  } catch (error) {
    throw new ModelError({
      code: 'decode-failed',
      message: `Tensor '${task.tensor}' in ${path.basename(task.model)} cannot be read: ${error instanceof Error ? error.message : String(error)}.`,
      tensor: task.tensor,
    });
  }
  if (task.dequant) {
    return dequantize(values, task.dequant);
  }
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/** Runs one task. */
export function runAnalysisTask(task: AnalysisTask): AnalysisResult {
  const t0 = performance.now();
  const values = taskValues(task);
  const t1 = performance.now();
  const analysis = analyzeTensor(values, task.layout, task.schemes.map(parseScheme), task.bins);
  return { analysis, readMs: t1 - t0, analyzeMs: performance.now() - t1 };
}
