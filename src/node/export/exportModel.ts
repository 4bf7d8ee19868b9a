/**
 * `quantlens export`: writes a runnable quantized ONNX model from a plan or one scheme. The source model is read
 * once; the output is streamed (one weight's quantized tensors in memory at a time) through safeWriteStream, so
 * a refused or cancelled export leaves no file.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parsePlan } from '../../core/eval/plan';
import type { ActivationQdqParams, ActivationRewrite } from '../../core/export/activationQdq';
import { encodeWeight, type EncodedWeight } from '../../core/export/encodeWeight';
import { mainGraphNames, NameSource, weightEdit, type WeightEdit } from '../../core/export/exportNodes';
import {
  ExportError,
  planExport,
  quantizesActivations,
  type ExportPlan,
  type ExportRequest,
} from '../../core/export/exportPlan';
import { exportMetadata, type ExportCalibrationRecord } from '../../core/export/marker';
import { rewriteModel, type Pieces } from '../../core/export/modelRewrite';
import { paddedVarint } from '../../core/export/wire';
import { loadModelFile, type LoadedModelFile } from '../modelFile';
import { readRegularFile } from '../safeRead';
import { safeWriteStream, WriteRefused } from '../safeWrite';
import { readWeightValues } from '../weightValues';
import { activationEdits } from './exportActivations';
import { exportCandidates, modelInfo } from './exportCandidates';

/** Options of an export. */
export interface ExportOptions {
  /** A plan file, or `scheme`. */
  plan?: string;
  scheme?: string;
  output?: string;
  accuracyLevel?: number;
  force?: boolean;
  version: string;
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number }) => void;
  /** Calibrated activations to quantize (static QDQ); required when the scheme or plan has activation ids. */
  activations?: readonly ActivationQdqParams[];
  /** The data the activations were calibrated on (recorded in the export's metadata). */
  calibration?: ExportCalibrationRecord;
  /** Output size above which new tensors' data go to an external data file (default: just under 2 GB). */
  externalAbove?: number;
}

/** One weight in the report. */
export interface ExportedWeight {
  name: string;
  layer: string;
  scheme: string;
  format: string;
  leftFloat?: string;
}

/** What an export wrote. */
export interface ExportResult {
  source: string;
  output: string;
  externalData?: string;
  sourceSha256: string;
  outputBytes: number;
  opset: number;
  irVersion: number;
  accuracyLevel: number;
  weights: ExportedWeight[];
  /** Activations quantized (static QDQ), absent for weight-only exports. */
  activations?: { tensors: number; types: string[]; foldedRelus: string[]; int32Biases: string[] };
  ms: number;
}

const PROTOBUF_LIMIT = 2 ** 31 - 64 * 2 ** 20;

/** The request from the options (a plan file read and checked). */
async function requestOf(
  options: ExportOptions,
): Promise<{ request: ExportRequest; label: string; planText?: string }> {
  if (options.plan !== undefined) {
    const text = new TextDecoder().decode(
      await readRegularFile(options.plan, 64 * 2 ** 20, options.signal, `The plan ${options.plan}`),
    );
    const parsed = parsePlan(text);
    if (!parsed.plan) {
      const where = parsed.problems.map((p) => `line ${p.range.line + 1}: ${p.message}`).join('; ');
      throw new ExportError(`The plan ${options.plan} is invalid: ${where}`);
    }
    const label = path.basename(options.plan).replace(/\.qplan\.json$|\.json$/i, '');
    return { request: { plan: parsed.plan, label: path.basename(options.plan) }, label, planText: text };
  }
  if (options.scheme === undefined)
    throw new ExportError('Give a plan (--plan P.qplan.json) or a scheme (--scheme ID).');
  return { request: { scheme: options.scheme }, label: options.scheme };
}

/** The output path: as given, or `<model>.<label>.onnx` next to the source; never the source itself. */
async function outputPath(modelPath: string, label: string, given?: string): Promise<string> {
  const out = path.resolve(
    given ?? path.join(path.dirname(modelPath), `${path.basename(modelPath, '.onnx')}.${label}.onnx`),
  );
  const [a, b] = await Promise.all([fs.realpath(modelPath), fs.realpath(out).catch(() => out)]);
  if (a === b || path.resolve(modelPath) === out)
    throw new WriteRefused(`${out} is the source model; QuantLens never overwrites it.`);
  return out;
}

/** Estimated output bytes (to decide on external data before writing). */
function estimate(loaded: LoadedModelFile, plan: ExportPlan): number {
  let bytes = loaded.bytes.length;
  for (const d of plan.decisions) {
    if (d.format.kind === 'float') continue;
    const n = d.weight.dims.reduce((a, b) => a * b, 1);
    const bits = d.scheme?.kind === 'int' ? (d.scheme.bits <= 4 ? 4 : 8) : d.format.kind === 'cast' ? 16 : 8;
    bytes += Math.ceil((n * bits) / 8) + n / 4 - 4 * n;
  }
  return bytes;
}

/** Writes the pieces of the rewrite to `handle` (and `external`), encoding weights when asked, patching the graph's length. */
async function writePieces(
  pieces: Pieces,
  encode: (edit: WeightEdit) => Promise<EncodedWeight>,
  handle: FileHandle,
  external: FileHandle | undefined,
  signal?: AbortSignal,
): Promise<number> {
  let position = 0;
  const open: number[] = [];
  let next = pieces.next();
  while (!next.done) {
    signal?.throwIfAborted();
    const piece = next.value;
    if (piece.kind === 'encode') {
      next = pieces.next(await encode(piece.edit));
      continue;
    }
    if (piece.kind === 'bytes') {
      await handle.write(piece.data, 0, piece.data.length, position);
      position += piece.data.length;
    } else if (piece.kind === 'length') {
      open.push(position);
      position += 5;
    } else if (piece.kind === 'end') {
      const at = open.pop()!;
      await handle.write(paddedVarint(position - at - 5), 0, 5, at);
    } else {
      await external!.write(piece.data);
    }
    next = pieces.next();
  }
  return position;
}

/** Refuses an output outside the source's folder when the source keeps external data the export refers to. */
async function checkExternalFolder(loaded: LoadedModelFile, modelPath: string, output: string): Promise<void> {
  if (loaded.overview.externalFiles.length === 0) return;
  const [a, b] = await Promise.all([
    fs.realpath(path.dirname(output)).catch(() => ''),
    fs.realpath(path.dirname(modelPath)),
  ]);
  if (a === b) return;
  throw new ExportError(
    `The model keeps weights in external data files (${loaded.overview.externalFiles.map((f) => f.location).join(', ')}) that the export refers to where they are: write the export into the model's folder (${path.dirname(path.resolve(modelPath))}).`,
  );
}

/** Streams the rewrite into `output` (and its external data file), one weight read and encoded at a time. */
async function writeExport(
  modelPath: string,
  loaded: LoadedModelFile,
  output: string,
  external: string | undefined,
  pieces: Pieces,
  edits: readonly WeightEdit[],
  options: ExportOptions,
): Promise<number> {
  const refs = new Map(loaded.weights.filter((w) => w.graph === 'main').map((w) => [w.name, w]));
  let done = 0;
  const encode = async (edit: WeightEdit): Promise<EncodedWeight> => {
    const w = edit.decision.weight;
    const data = (await readWeightValues({ path: modelPath, ...loaded }, refs.get(w.name)!)) as Float32Array;
    options.onProgress?.({ done: ++done, total: edits.length });
    return encodeWeight(w, data, edit.decision.scheme!, edit.decision.format);
  };
  let outputBytes = 0;
  const writeModel = async (ext?: FileHandle): Promise<void> =>
    safeWriteStream(
      output,
      async (h) => {
        outputBytes = await writePieces(pieces, encode, h, ext, options.signal);
      },
      { force: options.force },
    );
  if (external) {
    await safeWriteStream(path.join(path.dirname(output), external), (ext) => writeModel(ext), {
      force: options.force,
    });
  } else {
    await writeModel();
  }
  return outputBytes;
}

/** The activation rewrite when activations are given; refuses activation ids without them (no calibration). */
async function activationsOf(
  modelPath: string,
  loaded: LoadedModelFile,
  plan: ExportPlan,
  edits: readonly WeightEdit[],
  names: NameSource,
  label: string,
  activations: readonly ActivationQdqParams[] | undefined,
): Promise<ActivationRewrite | undefined> {
  if (plan.decisions.some((d) => quantizesActivations(d.schemeId)) && !activations?.length) {
    throw new ExportError(
      `${label} quantizes activations: their scales come from calibration on data (give an evaluation spec with a calibration block: --spec S).`,
    );
  }
  return activations?.length ? activationEdits(modelPath, loaded, plan, edits, activations, names) : undefined;
}

/** The report's activation part. */
function activationReport(
  a: ActivationRewrite,
  params: readonly ActivationQdqParams[],
): NonNullable<ExportResult['activations']> {
  return {
    tensors: params.length,
    types: [...new Set(params.map((p) => p.type))],
    foldedRelus: a.removedRelus,
    int32Biases: a.biases.map((b) => b.bias),
  };
}

/** Exports `modelPath` as asked; throws ExportError / ModelError (bad input), WriteRefused, or an abort. */
export async function exportModel(modelPath: string, options: ExportOptions): Promise<ExportResult> {
  const t0 = performance.now();
  const { request, label, planText } = await requestOf(options);
  const loaded = await loadModelFile(modelPath, options.signal);
  const candidates = await exportCandidates(modelPath, loaded);
  const plan = planExport(modelInfo(loaded.model), candidates, request, options.accuracyLevel ?? 0);
  const output = await outputPath(modelPath, label, options.output);
  await checkExternalFolder(loaded, modelPath, output);
  const names = new NameSource(mainGraphNames(loaded.model));
  const edits = plan.decisions.filter((d) => d.format.kind !== 'float').map((d) => weightEdit(d, plan, names));
  const activation = await activationsOf(modelPath, loaded, plan, edits, names, label, options.activations);
  const sourceSha256 = createHash('sha256').update(loaded.bytes).digest('hex');
  const record = {
    from: 'plan' in request ? `plan:${request.label}` : request.scheme,
    accuracyLevel: plan.accuracyLevel,
    sourceSha256,
    version: options.version,
    exported: edits.length,
    leftFloat: plan.decisions.length - edits.length,
    ...(activation ? { activations: options.activations!.length, foldedRelus: activation.removedRelus.length } : {}),
    ...(activation && options.calibration ? { calibration: options.calibration } : {}),
  };
  const tooLarge = estimate(loaded, plan) > (options.externalAbove ?? PROTOBUF_LIMIT);
  const external = tooLarge ? `${path.basename(output)}.data` : undefined;
  const metadata = exportMetadata(record, planText);
  const pieces = rewriteModel({ bytes: loaded.bytes, plan, edits, metadata, externalLocation: external, activation });
  const outputBytes = await writeExport(modelPath, loaded, output, external, pieces, edits, options);
  return {
    source: path.resolve(modelPath),
    output,
    ...(external ? { externalData: path.join(path.dirname(output), external) } : {}),
    sourceSha256,
    outputBytes,
    opset: plan.opset,
    irVersion: plan.irVersion,
    accuracyLevel: plan.accuracyLevel,
    weights: plan.decisions.map((d) => ({
      name: d.weight.name,
      layer: d.weight.layers[0]?.node ?? d.weight.name,
      scheme: d.schemeId,
      format: d.summary,
      ...(d.format.kind === 'float' ? { leftFloat: d.format.reason } : {}),
    })),
    ...(activation ? { activations: activationReport(activation, options.activations!) } : {}),
    ms: performance.now() - t0,
  };
}
