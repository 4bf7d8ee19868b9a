/**
 * Model-file variants (`{"model": "x.onnx"}` in a spec's variants): a model quantized by another tool (QDQ,
 * QOperator, MatMulNBits) or a QuantLens export, run as it is in a session of its own with onnxruntime's
 * default session options and scored against fp32 like the simulated variants. It must take the same inputs
 * and give the same outputs as the spec's model.
 */
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { FileVariant } from '../../core/eval/configurations';
import { fileActivations, parseExportRecord } from '../../core/eval/fileActivations';
import { EXPORT_MARKER_KEY } from '../../core/export/marker';
import { ModelError, plainErrorMessage } from '../../core/onnx/errors';
import type { ValueInfo } from '../../core/onnx/overview';
import type { FileSessionOptions, ModelVariantDef } from '../../core/eval/spec';
import { loadModelFile } from '../modelFile';
import type { Checker } from './evalCheck';
import { externalDataOf, type EvalModel } from './evalModel';

/** A model-file variant read and checked: what its session is created from. */
export interface FileModel {
  variant: FileVariant;
  /** Where it sits in the spec ('/variants/2/model'): onnxruntime's refusals are reported there. */
  pointer: string;
  /** Resolved path (the cost measurement reads it again in its own process). */
  path: string;
  bytes: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
}

/** Session options of a model-file variant as recorded: onnxruntime's defaults unless the spec sets some. */
export function fileSessionOptions(given: FileSessionOptions | undefined, threads?: number): Record<string, string> {
  return {
    graphOptimizationLevel: given?.graphOptimizationLevel ?? 'all',
    executionMode: 'sequential',
    executionProviders: 'cpu',
    ...(threads ? { intraOpNumThreads: String(threads) } : {}),
    ...given?.config,
  };
}

const RECORDED_ONLY = new Set(['executionMode', 'executionProviders']);
const NUMERIC = new Set(['intraOpNumThreads', 'interOpNumThreads']);

/** onnxruntime-node's options for recorded session options (configuration entries go under `extra`, split at dots). */
export function ortSessionOptions(recorded: Record<string, string>): ort.InferenceSession.SessionOptions {
  const options: Record<string, unknown> = { logSeverityLevel: 4 };
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(recorded)) {
    if (RECORDED_ONLY.has(key)) continue;
    if (!key.includes('.')) {
      options[key] = NUMERIC.has(key) ? Number(value) : value;
      continue;
    }
    const parts = key.split('.');
    let at = extra;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[parts[parts.length - 1]] = String(value);
  }
  return { ...options, ...(Object.keys(extra).length > 0 ? { extra } : {}) } as ort.InferenceSession.SessionOptions;
}

/** How a file variant's inputs and outputs differ from the spec's model's (empty: they match). */
export function interfaceProblems(
  written: string,
  fp32: Pick<EvalModel, 'inputs' | 'outputs'>,
  file: { inputs: ValueInfo[]; outputs: ValueInfo[] },
): string[] {
  const problems: string[] = [];
  const compare = (what: 'input' | 'output', want: ValueInfo[], have: ValueInfo[]): void => {
    const byName = new Map(have.map((v) => [v.name, v]));
    for (const w of want) {
      const h = byName.get(w.name);
      if (!h) problems.push(`Model '${written}' has no ${what} '${w.name}' (the spec's model has it).`);
      else if (h.dtype !== w.dtype)
        problems.push(`Model '${written}' ${what} '${w.name}' is ${h.dtype}; the spec's model's is ${w.dtype}.`);
    }
    if (what === 'output') return;
    const wanted = new Set(want.map((w) => w.name));
    for (const h of have.filter((v) => !wanted.has(v.name)))
      problems.push(`Model '${written}' takes an input '${h.name}' the spec's model does not have.`);
  };
  compare('input', fp32.inputs, file.inputs);
  compare('output', fp32.outputs, file.outputs);
  return problems;
}

/** The `from` an export's marker records (`plan:<file name>` or a scheme id); undefined when it does not parse. */
function recordedSource(markerValue: string): string | undefined {
  try {
    const from = (JSON.parse(markerValue) as { from?: unknown }).from;
    return typeof from === 'string' ? from : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a model-file variant and checks its inputs and outputs against the spec's model; problems go to `check`. */
export async function checkFileVariant(
  v: ModelVariantDef,
  index: number,
  dir: string,
  fp32: EvalModel,
  check: Checker,
  threads?: number,
): Promise<FileModel | undefined> {
  const pointer = `/variants/${index}/model`;
  const resolved = path.resolve(dir, v.model);
  try {
    const loaded = await loadModelFile(resolved);
    const problems = interfaceProblems(v.model, fp32, loaded.overview);
    for (const p of problems) check.add(pointer, p);
    if (problems.length > 0) return undefined;
    const storedBytes = loaded.weights.reduce((sum, w) => sum + w.bytes, 0);
    // A model QuantLens exported carries its marker: it is re-evaluated as `export:<path>`.
    const marker = loaded.overview.metadata.find((m) => m.key === EXPORT_MARKER_KEY);
    const exported = marker !== undefined;
    const exportedFrom = marker ? recordedSource(marker.value) : undefined;
    const activations = fileActivations(loaded.model, parseExportRecord(marker?.value));
    const variant: FileVariant = {
      id: `${exported ? 'export' : 'model'}:${v.model}`,
      label: v.name ?? path.basename(v.model),
      kind: exported ? 'export' : 'file',
      model: v.model,
      storedBytes,
      sessionOptions: fileSessionOptions(v.sessionOptions, threads),
      ...(exportedFrom !== undefined ? { exportedFrom } : {}),
      ...(activations ? { fileActivations: activations } : {}),
    };
    const externalData = await externalDataOf(loaded, new Set());
    return { variant, pointer, path: resolved, bytes: loaded.bytes, externalData };
  } catch (error) {
    const why = error instanceof ModelError ? error.message.replace(/\.$/, '') : plainErrorMessage(error);
    check.add(pointer, `Model '${v.model}' cannot be used: ${why} (looked for ${resolved}).`);
    return undefined;
  }
}

/** The session of a model-file variant; onnxruntime refusing the model is bad input, at its place in the spec. */
export async function createFileSession(file: FileModel, check: Checker): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(file.bytes, {
      ...ortSessionOptions(file.variant.sessionOptions),
      ...(file.externalData.length > 0 ? { externalData: file.externalData } : {}),
    });
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw check.error(file.pointer, `onnxruntime cannot load ${file.variant.model}: ${message}`);
  }
}
