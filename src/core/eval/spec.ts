/**
 * The evaluation spec (`*.quantlens.json`): its types, validation against the JSON schema the editor uses
 * (schemas/evaluation.schema.json) and the defaults. Pure: paths stay as written (the node side resolves
 * them against the spec's folder).
 */
import Ajv, { type ErrorObject } from 'ajv';
import schema from '../../../schemas/evaluation.schema.json';
import { parseScheme, parseVariantScheme } from '../quant/schemes';
import { JsonText, type JsonProblem } from './jsonLocation';
import { unknownSchemeText } from '../quant/schemeSuggestion';
import type { TaskKind } from './metrics';
import {
  calibrationOf,
  calibrationProblems,
  type ActivationSiteSpec,
  type CalibrationSpec,
  type RawCalibration,
} from './calibrationSpec';

/** One data source (a file or a folder). */
export interface DataSource {
  path: string;
  format?: 'jsonl' | 'csv' | 'npy' | 'npz' | 'idx' | 'images';
  as?: string;
  image?: ImageOptions;
}

/** Preprocessing of a folder of images. */
export interface ImageOptions {
  size?: [number, number];
  channels?: 'gray' | 'rgb';
  scale?: number;
  mean?: number[];
  std?: number[];
  layout?: 'NCHW' | 'NHWC';
}

/** Which field feeds a model input, and how. */
export interface InputMapping {
  field: string;
  shape?: number[];
  scale?: number;
  offset?: number;
}

/** A slice definition. */
export type SliceDef =
  | { by: 'label'; name?: string; classNames?: string[] }
  | { by: 'field'; field: string; name?: string }
  | { by: 'buckets'; field: string; name?: string; edges?: number[]; quantiles?: number }
  | { by: 'ids'; name: string; ids: (number | string)[]; field?: string };

/** A variant: a scheme for every quantizable weight, a plan file, or a quantized model file run as it is. */
export type VariantDef = { scheme: string } | { plan: string; name?: string } | ModelVariantDef;

/** A model file run as it is, with onnxruntime's session options (its defaults unless given). */
export interface ModelVariantDef {
  model: string;
  name?: string;
  sessionOptions?: FileSessionOptions;
}

/** Session options of a model-file variant: optimization level and session configuration entries. */
export interface FileSessionOptions {
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  config?: Record<string, string>;
}

/** Latency measurement: batch sizes, and the runs and seconds each measurement takes at least. */
export interface LatencySettings {
  batchSizes: number[];
  runs: number;
  seconds: number;
  /** Rounds of A B A B (each model in a fresh process per round). */
  rounds: number;
}

/** Latency defaults (batch sizes: 1 and the spec's batch size). */
export const LATENCY_DEFAULTS = { runs: 20, seconds: 1, rounds: 2 } as const;

/** Limits a variant must meet on every slice. */
export interface Budget {
  accuracyDrop?: number;
  kl?: number;
  perplexityIncrease?: number;
  mseIncrease?: number;
  /** Slices with fewer samples are shown but never decide (verdicts and flags); default: the setting, else 20. */
  minSliceSize?: number;
}

/** The plan search's settings: candidate schemes (fp32 keeps a layer), what it minimises and the most it may cost. */
export interface SearchSettings {
  candidates: string[];
  cost: 'bytes' | 'latency';
  /** Bytes or ms (`value`), or a fraction of fp32's cost (written "0.5x"); none: the cheapest passing plan. */
  maxCost?: { value: number } | { fraction: number };
}

/** A validated spec with defaults applied. */
export interface EvalSpec {
  model: string;
  task: { type: TaskKind; output?: string; probabilities: boolean; tokens?: string };
  data: DataSource[];
  inputs: Record<string, InputMapping>;
  label: string;
  slices: SliceDef[];
  variants: VariantDef[];
  budget: Budget;
  sweep: false | { granularity: string; asymmetric: boolean; bits: number[] };
  sensitivity: false | { schemes?: string[]; leaveOneOut: boolean };
  batchSize: number;
  limit?: number;
  seed: number;
  /** Cost measurement: false (off), or its settings; undefined: on when a file variant is listed. */
  latency?: false | LatencySettings;
  /** Calibration of activation ranges (needed by activation variants). */
  calibration?: CalibrationSpec;
  /** Nodes or tensors whose activations stay float. */
  exclude: string[];
  activationSites: ActivationSiteSpec;
  /** The plan search, when the spec asks for one. */
  search?: SearchSettings;
}

/** The default variants. */
export const DEFAULT_VARIANTS = ['fp16', 'int8-channel', 'int4-block32'];

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

/** Thrown when a spec (or its data) is wrong; carries every problem with where it is. */
export class SpecError extends Error {
  constructor(
    readonly file: string,
    readonly problems: JsonProblem[],
  ) {
    super(problems.map((p) => `${file}:${p.range.line + 1}:${p.range.character + 1}: ${p.message}`).join('\n'));
    this.name = 'SpecError';
  }
}

/** What is wrong with a variant id: its activation suffix, else the weight scheme (with a suggestion). */
function variantSchemeText(id: string): string {
  if (!id.includes('+a')) return unknownSchemeText(id);
  try {
    parseVariantScheme(id);
    return unknownSchemeText(id);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** One readable line per schema error; oneOf noise is collapsed to the most specific branch's errors. */
function schemaProblems(json: JsonText, errors: ErrorObject[]): JsonProblem[] {
  const specific = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
  // Inside a oneOf, errors of every branch are reported; keep those of the deepest paths, then dedupe.
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of specific) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const problems: JsonProblem[] = [];
  const seen = new Set<string>();
  for (const [pointer, list] of byPath) {
    const deeper = [...byPath.keys()].some((p) => p !== pointer && p.startsWith(`${pointer}/`));
    if (deeper && list.every((e) => e.keyword === 'type' || e.keyword === 'const' || e.keyword === 'enum')) continue;
    const consts = list.filter((e) => e.keyword === 'const' || e.keyword === 'enum');
    // oneOf branches each report why they fail; a 'type' complaint next to a more specific one is noise.
    const specificHere = list.some((e) => e.keyword !== 'type');
    for (const e of list) {
      if (specificHere && e.keyword === 'type') continue;
      let message: string;
      const where = pointer === '' ? 'The spec' : `'${pointer.slice(1).replace(/\//g, '.')}'`;
      if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        const key = `${pointer}/${extra}`;
        if (seen.has(key)) continue;
        seen.add(key);
        problems.push(
          json.problem(key, `Unknown property '${extra}' in ${where === 'The spec' ? 'the spec' : where}.`, true),
        );
        continue;
      } else if (e.keyword === 'required') {
        message = `${where} needs '${(e.params as { missingProperty: string }).missingProperty}'.`;
      } else if (e.keyword === 'enum' || e.keyword === 'const') {
        if (e !== consts[0]) continue;
        const allowed = consts.flatMap((c) =>
          c.keyword === 'enum'
            ? (c.params as { allowedValues: unknown[] }).allowedValues
            : [(c.params as { allowedValue: unknown }).allowedValue],
        );
        message = `${where} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}.`;
      } else if (e.keyword === 'pattern' && pointer.match(/variants|schemes|candidates/)) {
        message = `${where}: ${variantSchemeText(String(json.valueAt(pointer)))}`;
      } else {
        message = `${where} ${e.message ?? 'is invalid'}.`;
      }
      if (seen.has(pointer + message)) continue;
      seen.add(pointer + message);
      problems.push(json.problem(pointer, message));
    }
  }
  return problems;
}

interface RawSpec {
  model: string;
  task: TaskKind | { type: TaskKind; output?: string; outputKind?: 'logits' | 'probabilities'; tokens?: string };
  data: DataSource | DataSource[];
  inputs?: Record<string, string | InputMapping>;
  label?: string;
  slices?: SliceDef[];
  variants?: (string | { plan: string; name?: string } | ModelVariantDef)[];
  budget?: Budget;
  sweep?: false | { granularity?: string; asymmetric?: boolean; bits?: number[] };
  sensitivity?: false | { schemes?: string[]; leaveOneOut?: boolean };
  batchSize?: number;
  limit?: number;
  seed?: number;
  latency?: false | { batchSizes?: number[]; runs?: number; seconds?: number; rounds?: number };
  calibration?: RawCalibration;
  exclude?: string[];
  activationSites?: { inputs?: boolean; outputs?: boolean; floatOps?: string[] };
  search?: { candidates: string[]; cost?: 'bytes' | 'latency'; maxCost?: number | string };
}

/** Parses and validates a spec's text. Throws SpecError listing every problem with its line. */
export function parseSpec(text: string, file: string): { spec: EvalSpec; json: JsonText } {
  const json = new JsonText(text);
  if (json.syntaxErrors.length > 0) throw new SpecError(file, json.syntaxErrors);
  let raw: RawSpec;
  try {
    raw = JSON.parse(text) as RawSpec;
  } catch (error) {
    throw new SpecError(file, [
      json.problem('', `The spec is not valid JSON: ${error instanceof Error ? error.message : String(error)}`),
    ]);
  }
  if (!validate(raw)) throw new SpecError(file, schemaProblems(json, validate.errors ?? []));
  const task = typeof raw.task === 'string' ? { type: raw.task } : raw.task;
  const variants: VariantDef[] = (raw.variants ?? DEFAULT_VARIANTS).map((v) =>
    typeof v === 'string' ? { scheme: v } : v,
  );
  const problems = semanticProblems(raw, task.type, variants, json);
  if (problems.length > 0) throw new SpecError(file, problems);
  return { spec: specOf(raw, task, variants), json };
}

/** What the schema cannot say: a language model's tokens, variants listed twice, bucket definitions. */
function semanticProblems(
  raw: RawSpec,
  type: TaskKind,
  variants: readonly VariantDef[],
  json: JsonText,
): JsonProblem[] {
  const problems: JsonProblem[] = calibrationProblems(variants, raw.calibration, json);
  if (type === 'language-model' && !(typeof raw.task === 'object' && raw.task.tokens)) {
    problems.push(json.problem('/task', "A language-model task needs 'tokens': the field with token-id windows."));
  }
  const seenVariant = new Set<string>();
  variants.forEach((v, i) => {
    const key = 'scheme' in v ? v.scheme : 'plan' in v ? `plan:${v.plan}` : `model:${v.model}`;
    if (seenVariant.has(key)) problems.push(json.problem(`/variants/${i}`, `Variant '${key}' is listed twice.`));
    seenVariant.add(key);
  });
  for (const [i, s] of (raw.slices ?? []).entries()) {
    if (s.by === 'buckets' && (s.edges === undefined) === (s.quantiles === undefined)) {
      problems.push(json.problem(`/slices/${i}`, "A buckets slice needs either 'edges' or 'quantiles'."));
    }
    if (s.by === 'buckets' && s.edges && s.edges.some((e, k) => k > 0 && e <= s.edges![k - 1])) {
      problems.push(json.problem(`/slices/${i}/edges`, 'Bucket edges must increase.'));
    }
  }
  problems.push(...searchProblems(raw, json));
  return problems;
}

/** A search needs a budget to meet, candidates listed once, and a fraction of fp32 above 0. */
function searchProblems(raw: RawSpec, json: JsonText): JsonProblem[] {
  const search = raw.search;
  if (!search) return [];
  const problems: JsonProblem[] = [];
  const budget = raw.budget ?? {};
  const limits = ['accuracyDrop', 'kl', 'perplexityIncrease', 'mseIncrease'] as const;
  if (!limits.some((k) => budget[k] !== undefined))
    problems.push(
      json.problem(
        '/search',
        "A search needs a budget to meet: set 'budget' with accuracyDrop, kl, perplexityIncrease or mseIncrease.",
      ),
    );
  search.candidates.forEach((c, i) => {
    if (search.candidates.indexOf(c) !== i)
      problems.push(json.problem(`/search/candidates/${i}`, `Candidate '${c}' is listed twice.`));
    else if (!raw.calibration && candidateQuantizesActivations(c))
      problems.push(
        json.problem(
          `/search/candidates/${i}`,
          `Candidate '${c}' quantizes activations: add "calibration": {"samples": N} (ranges are calibrated on N samples of your data).`,
        ),
      );
  });
  if (typeof search.maxCost === 'string' && !(maxCostFraction(search.maxCost) > 0))
    problems.push(
      json.problem('/search/maxCost', `'search.maxCost' "${search.maxCost}" must be a fraction above 0, like "0.5x".`),
    );
  return problems;
}

/** Whether a search candidate id has an activation part (`w8a8`, `…+aN…`); false for ids that do not parse. */
function candidateQuantizesActivations(id: string): boolean {
  try {
    return parseVariantScheme(id, true).activation !== undefined;
  } catch {
    return false;
  }
}

/** The fraction of "0.5x" (NaN when it is not one). */
const maxCostFraction = (text: string): number => (/^[0-9.]+x$/.test(text) ? Number(text.slice(0, -1)) : NaN);

/** The spec with its defaults filled in. */
function specOf(raw: RawSpec, task: Exclude<RawSpec['task'], TaskKind>, variants: VariantDef[]): EvalSpec {
  const sweep =
    raw.sweep === false
      ? false
      : {
          granularity: raw.sweep?.granularity ?? 'channel',
          asymmetric: raw.sweep?.asymmetric ?? false,
          bits: [...new Set(raw.sweep?.bits ?? [8, 7, 6, 5, 4, 3, 2])].sort((a, b) => b - a),
        };
  return {
    model: raw.model,
    task: {
      type: task.type,
      output: task.output,
      probabilities: 'outputKind' in task && task.outputKind === 'probabilities',
      tokens: 'tokens' in task ? task.tokens : undefined,
    },
    data: Array.isArray(raw.data) ? raw.data : [raw.data],
    inputs: Object.fromEntries(
      Object.entries(raw.inputs ?? {}).map(([k, v]) => [k, typeof v === 'string' ? { field: v } : v]),
    ),
    label: raw.label ?? 'label',
    slices: raw.slices ?? [],
    variants,
    budget: raw.budget ?? {},
    sweep,
    sensitivity:
      raw.sensitivity === false
        ? false
        : { schemes: raw.sensitivity?.schemes, leaveOneOut: raw.sensitivity?.leaveOneOut ?? true },
    batchSize: raw.batchSize ?? 64,
    limit: raw.limit,
    seed: raw.seed ?? 0,
    ...(raw.latency === undefined ? {} : { latency: latencyOf(raw.latency, raw.batchSize ?? 64) }),
    ...(raw.calibration ? { calibration: calibrationOf(raw.calibration, raw.seed ?? 0) } : {}),
    exclude: raw.exclude ?? [],
    activationSites: {
      inputs: raw.activationSites?.inputs ?? true,
      outputs: raw.activationSites?.outputs ?? true,
      ...(raw.activationSites?.floatOps ? { floatOps: raw.activationSites.floatOps } : {}),
    },
    ...(raw.search ? { search: searchOf(raw.search) } : {}),
  };
}

function searchOf(raw: NonNullable<RawSpec['search']>): SearchSettings {
  const { maxCost } = raw;
  return {
    candidates: [...raw.candidates],
    cost: raw.cost ?? 'bytes',
    ...(maxCost === undefined
      ? {}
      : { maxCost: typeof maxCost === 'number' ? { value: maxCost } : { fraction: maxCostFraction(maxCost) } }),
  };
}

/** Latency settings with their defaults (batch sizes 1 and the spec's batch size). */
export function latencyOf(raw: RawSpec['latency'] | true, batchSize: number): false | LatencySettings {
  if (raw === false) return false;
  const given = raw === true || raw === undefined ? {} : raw;
  return {
    batchSizes: [...new Set(given.batchSizes ?? [1, batchSize])].sort((a, b) => a - b),
    runs: given.runs ?? LATENCY_DEFAULTS.runs,
    seconds: given.seconds ?? LATENCY_DEFAULTS.seconds,
    rounds: given.rounds ?? LATENCY_DEFAULTS.rounds,
  };
}

/** Scheme ids of a sweep, most bits first (`int8-channel` .. `int2-channel`). */
export function sweepSchemes(sweep: Exclude<EvalSpec['sweep'], false>): string[] {
  return sweep.bits.map((b) => parseScheme(`int${b}-${sweep.granularity}${sweep.asymmetric ? '-asym' : ''}`).id);
}
