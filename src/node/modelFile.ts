/** Reads a model file from disk into an overview, checking its external data files exist and fit. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { decodeModel, MAX_PROTOBUF_BYTES } from '../core/onnx/decode';
import { ModelError } from '../core/onnx/errors';
import { externalLocationProblem } from '../core/onnx/externalData';
import type { onnx } from 'onnx-proto';
import { buildOverview, type ExternalFileRef, type ModelOverview } from '../core/onnx/overview';
import { collectWeights, type WeightRef } from '../core/onnx/weights';

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
  let stat;
  let real;
  try {
    real = await fs.realpath(resolved);
    stat = await fs.stat(real);
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
  if (!stat.isFile()) {
    throw new ModelError({
      code: 'external-data',
      message: `The ${where} is not a file: ${resolved}.`,
      tensor: ref.firstTensor,
      file: ref.location,
    });
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

/** Reads, decodes and indexes a model file. Throws ModelError for anything wrong with the file. */
export async function loadModelFile(modelPath: string, signal?: AbortSignal): Promise<LoadedModelFile> {
  const t0 = performance.now();
  const stat = await fs.stat(modelPath);
  if (stat.size > MAX_PROTOBUF_BYTES) {
    throw new ModelError({
      code: 'too-large',
      message: `The file is ${stat.size} bytes; a single ONNX protobuf cannot exceed 2 GiB. Models this large store weights as external data.`,
    });
  }
  const bytes = await fs.readFile(modelPath, { signal });
  const t1 = performance.now();
  const model = decodeModel(bytes);
  const weights = collectWeights(model, bytes);
  const overview = buildOverview(model, bytes, weights);
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
