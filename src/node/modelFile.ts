/** Reads a model file from disk into an overview, checking its external data files exist and fit. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { decodeModel, MAX_PROTOBUF_BYTES } from '../core/onnx/decode';
import { ModelError, plainErrorMessage } from '../core/onnx/errors';
import { externalLocationProblem } from '../core/onnx/externalData';
import type { onnx } from 'onnx-proto';
import { buildOverview, type ExternalFileRef, type ModelOverview } from '../core/onnx/overview';
import { collectWeights, type WeightRef } from '../core/onnx/weights';
import { openRegularFile, readRegularFile } from './safeRead';

/** Overview of a model file plus how long each step took. */
export interface OverviewResult {
  overview: ModelOverview;
  timings: { readMs: number; decodeMs: number; checkMs: number };
}

const isInside = (folder: string, file: string): boolean => {
  const rel = path.relative(folder, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};

/** Resolves an external data file inside the model folder; throws ModelError naming tensor and path. */
export async function checkExternalFile(modelPath: string, ref: ExternalFileRef): Promise<string> {
  const where = `external data '${ref.location}' of tensor '${ref.firstTensor}'`;
  const problem = externalLocationProblem(ref.location);
  if (problem) {
    throw new ModelError({
      code: 'external-data',
      message: `The ${where} ${problem}.`,
      tensor: ref.firstTensor,
      file: ref.location,
    });
  }
  const folder = path.dirname(modelPath);
  const resolved = path.join(folder, ref.location);
  let real;
  try {
    real = await fs.realpath(resolved);
  } catch {
    throw new ModelError({
      code: 'external-data',
      message: `The ${where} is missing: expected the file ${resolved} (needs at least ${ref.requiredSize} bytes).`,
      tensor: ref.firstTensor,
      file: ref.location,
    });
  }
  if (!isInside(await fs.realpath(folder), real)) {
    throw new ModelError({
      code: 'external-data',
      message: `The ${where} resolves to ${real}, outside the model folder; QuantLens refuses to read it.`,
      tensor: ref.firstTensor,
      file: ref.location,
    });
  }
  let stat: { size: number };
  try {
    const opened = await openRegularFile(real, `The ${where} (${resolved})`);
    await opened.handle.close();
    stat = opened;
  } catch (error) {
    const message = error instanceof ModelError ? error.message : `The ${where} cannot be read: ${resolved}.`;
    throw new ModelError({ code: 'external-data', message, tensor: ref.firstTensor, file: ref.location });
  }
  if (stat.size < ref.requiredSize) {
    throw new ModelError({
      code: 'external-data',
      message: `The ${where} is too short: ${resolved} has ${stat.size} bytes, the model declares data up to byte ${ref.requiredSize}.`,
      tensor: ref.firstTensor,
      file: ref.location,
    });
  }
  return real;
}

/** A model file read, decoded, indexed and checked (external data present and inside the folder). */
export interface LoadedModelFile {
  bytes: Uint8Array;
  model: onnx.ModelProto;
  weights: WeightRef[];
  overview: ModelOverview;
  /** Checked real path of each external data file, by its location in the model. */
  externalPaths: Map<string, string>;
  timings: OverviewResult['timings'];
}

/** Decodes and indexes model bytes; engine failures (stack overflow, allocation) become a plain ModelError. */
function indexModel(bytes: Uint8Array): { model: onnx.ModelProto; weights: WeightRef[]; overview: ModelOverview } {
  try {
    const model = decodeModel(bytes);
    const weights = collectWeights(model, bytes);
    return { model, weights, overview: buildOverview(model, bytes, weights) };
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw new ModelError({ code: 'decode-failed', message: plainErrorMessage(error) });
  }
}

/** Reads, decodes and indexes a model file. Throws ModelError for anything wrong with the file. */
export async function loadModelFile(modelPath: string, signal?: AbortSignal): Promise<LoadedModelFile> {
  const t0 = performance.now();
  const bytes = await readRegularFile(modelPath, MAX_PROTOBUF_BYTES, signal, `The model file ${modelPath}`).catch(
    (error: unknown) => {
      if (error instanceof ModelError && error.info.code === 'too-large') {
        throw new ModelError({
          code: 'too-large',
          message: `${error.message} A single ONNX protobuf cannot exceed 2 GiB; models this large store weights as external data.`,
        });
      }
      throw error;
    },
  );
  const t1 = performance.now();
  const { model, weights, overview } = indexModel(bytes);
  const t2 = performance.now();
  const externalPaths = new Map<string, string>();
  for (const ref of overview.externalFiles) {
    signal?.throwIfAborted();
    externalPaths.set(ref.location, await checkExternalFile(modelPath, ref));
  }
  const t3 = performance.now();
  return {
    bytes,
    model,
    weights,
    overview,
    externalPaths,
    timings: { readMs: t1 - t0, decodeMs: t2 - t1, checkMs: t3 - t2 },
  };
}

/** The overview of a model file (what the inspector and the overview worker need). */
export async function readModelOverview(modelPath: string, signal?: AbortSignal): Promise<OverviewResult> {
  const { overview, timings } = await loadModelFile(modelPath, signal);
  return { overview, timings };
}
