/**
 * What an export does, decided before anything is written: for every quantizable weight its scheme (from the
 * plan or the one scheme), its stored format or why it stays float, and the opset / IR version the model
 * needs, refusing (ExportError, exit 2) what cannot be exported as asked.
 */
import { KEEP_FLOAT, planEntry, unknownLayers, type QuantPlan } from '../eval/plan';
import { parseScheme, parseVariantScheme, type Scheme } from '../quant/schemes';
import { describeFormat, exportFormat, type ExportFormat, type ExportWeight } from './exportFormat';
import { formatOpset, irForOpset, opsetConflict, type OpsetNode } from './opsets';

/** Bad input for an export: nothing is written; the CLI exits with 2. */
export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

/** A weight the export may quantize; `skip` says why it is left as it is whatever the plan says. */
export interface ExportCandidate extends ExportWeight {
  skip?: string;
}

/** What to export: a plan (`label` is its file name) or one scheme for every weight. */
export type ExportRequest = { plan: QuantPlan; label: string } | { scheme: string };

/** One weight's decision. */
export interface WeightDecision {
  weight: ExportCandidate;
  /** The scheme id as the plan gives it (`fp32`: kept). */
  schemeId: string;
  scheme?: Scheme;
  format: ExportFormat;
  /** One line for reports: "int4-block32 -> MatMulNBits uint4 blocks of 32, accuracy_level 0". */
  summary: string;
}

/** The export decided. */
export interface ExportPlan {
  decisions: WeightDecision[];
  /** ai.onnx opset and IR version of the output (raised only as far as needed). */
  opset: number;
  irVersion: number;
  /** Whether the com.microsoft domain (MatMulNBits) must be imported. */
  microsoft: boolean;
  accuracyLevel: number;
}

/** The model facts the plan needs. */
export interface ExportModelInfo {
  opset: number;
  irVersion: number;
  /** Every node of every graph (for the opset check). */
  nodes: Iterable<OpsetNode>;
}

/** The scheme id of each weight under the request. */
function schemeIds(request: ExportRequest, candidates: readonly ExportCandidate[]): string[] {
  if ('scheme' in request) return candidates.map(() => request.scheme);
  const plan = request.plan;
  const unknown = unknownLayers(
    plan,
    candidates.map((c) => ({ name: c.name, layers: c.layers.map((l) => l.node) })),
  );
  if (unknown.length > 0) {
    throw new ExportError(
      `The plan ${request.label} names ${unknown.map((u) => `'${u}'`).join(', ')}, which the model has no quantizable float32 weight or layer for.`,
    );
  }
  return candidates.map((c) => planEntry(plan, { name: c.name, layers: c.layers.map((l) => l.node) }).scheme);
}

/** The weight part of a variant id (`w8a8` -> `int8-channel`, `int4-block32+a8-sym` -> `int4-block32`). */
export function weightSchemeId(id: string): string {
  try {
    return parseVariantScheme(id, true).weight;
  } catch {
    return id; // parseScheme says what is wrong with it
  }
}

/** Whether a scheme or plan id quantizes activations (`w8a8`, `int8-channel+a8`...). */
export function quantizesActivations(id: string): boolean {
  try {
    return parseVariantScheme(id, true).activation !== undefined;
  } catch {
    return false;
  }
}

/** One weight's decision under a scheme id (activation suffixes are the activation rewrite's). */
function decide(weight: ExportCandidate, schemeId: string, accuracyLevel: number): WeightDecision {
  if (weightSchemeId(schemeId) === KEEP_FLOAT)
    return { weight, schemeId, format: { kind: 'float', reason: 'fp32 in the plan' }, summary: 'fp32 (kept)' };
  let scheme: Scheme;
  try {
    scheme = parseScheme(weightSchemeId(schemeId));
  } catch (error) {
    throw new ExportError(error instanceof Error ? error.message : String(error));
  }
  const format: ExportFormat = weight.skip ? { kind: 'float', reason: weight.skip } : exportFormat(weight, scheme);
  return { weight, schemeId, scheme, format, summary: `${schemeId} -> ${describeFormat(format, accuracyLevel)}` };
}

/** Decides the export of `candidates`; throws ExportError naming the layer or op when it cannot be done. */
export function planExport(
  model: ExportModelInfo,
  candidates: readonly ExportCandidate[],
  request: ExportRequest,
  accuracyLevel = 0,
): ExportPlan {
  if (![0, 1, 2, 4].includes(accuracyLevel)) {
    throw new ExportError(`The accuracy level ${accuracyLevel} is not one of 0, 1, 2, 4.`);
  }
  if (candidates.length === 0) {
    throw new ExportError(
      'The model has no float32 weight a layer reads (MatMul, Gemm, Conv, Gather...): there is nothing to export.',
    );
  }
  const ids = schemeIds(request, candidates);
  const decisions = candidates.map((c, i) => decide(c, ids[i], accuracyLevel));
  if (!decisions.some((d) => d.format.kind !== 'float')) {
    const why = decisions.find((d) => d.format.kind === 'float')?.summary ?? '';
    throw new ExportError(
      `No weight would be quantized (e.g. '${decisions[0].weight.name}': ${why}): nothing to export.`,
    );
  }
  let opset = model.opset;
  for (const d of decisions) {
    const need = formatOpset(d.format);
    if (need > opset) opset = need;
  }
  const conflict = opsetConflict(model.nodes, model.opset, opset);
  if (conflict) {
    const needs = decisions.find((d) => formatOpset(d.format) === opset)!;
    throw new ExportError(
      `'${needs.weight.layers[0]?.node ?? needs.weight.name}' under ${needs.schemeId} needs opset ${opset} (the model has ${model.opset}), ` +
        `but node '${conflict.node.name}' (${conflict.node.op}) changes meaning at opset ${conflict.at}: QuantLens does not raise the opset. ` +
        "Choose a scheme the model's opset can hold (e.g. int8-channel needs 13, fp16 any) or re-export the model at a newer opset.",
    );
  }
  return {
    decisions,
    opset,
    irVersion: Math.max(model.irVersion, irForOpset(opset)),
    microsoft: decisions.some((d) => d.format.kind === 'nbits' || (d.format.kind === 'dq' && !!d.format.gather)),
    accuracyLevel,
  };
}
