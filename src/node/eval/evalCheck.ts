/**
 * The check stage of an evaluation: reads the spec, its model, its data and its plan files, and checks them
 * all (outputs, inputs, every selected sample, slices, variants) before any inference. Every problem found is
 * collected and thrown together as one SpecError, at its place in the spec.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ResolvedVariant } from '../../core/eval/configurations';
import type { JsonProblem } from '../../core/eval/jsonLocation';
import { parsePlan, unknownLayers } from '../../core/eval/plan';
import { planQuantizesActivations } from '../../core/eval/activationConfigs';
import { buildSlices, SAMPLE_INDEX, SliceProblem, type Slices } from '../../core/eval/slices';
import { parseSpec, SpecError, type EvalSpec, type FileSessionOptions } from '../../core/eval/spec';
import { ModelError, plainErrorMessage } from '../../core/onnx/errors';
import { mulberry32 } from '../../core/random';
import { readRegularFile } from '../safeRead';
import { readDataset } from './data';
import { DataProblem, type Dataset, type Field } from './dataFields';
import { checkSamples, dimsText, planInputs, type InputPlan, type OutputPlan } from './evalInputs';
import { prepareEvalModel, type EvalModel } from './evalModel';
import {
  calibrationSplit,
  separateCalibration,
  sliceCalibration,
  SPLIT_SOURCE,
  type CheckedCalibration,
} from './calibrationCheck';
import { checkFileVariant, type FileModel } from './fileVariant';

/** At most this many problems are reported. */
const MAX_PROBLEMS = 20;

/** Collects problems found while checking; thrown together as one SpecError. */
export class Checker {
  readonly problems: JsonProblem[] = [];
  constructor(
    private readonly file: string,
    private readonly json: ReturnType<typeof parseSpec>['json'],
  ) {}
  add(pointer: string, message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(this.json.problem(pointer, message));
  }
  /** Whether no more problems are taken. */
  get full(): boolean {
    return this.problems.length >= MAX_PROBLEMS;
  }
  throwIfAny(): void {
    if (this.problems.length > 0) throw new SpecError(this.file, this.problems);
  }
  /** One problem as a SpecError, for the stages after the check (what onnxruntime refuses). */
  error(pointer: string, message: string): SpecError {
    return new SpecError(this.file, [this.json.problem(pointer, message)]);
  }
}

/** Everything checked: what the plan and run stages take. */
export interface CheckedEval {
  specPath: string;
  /** The spec's text (its hash and content go into the results). */
  text: string;
  spec: EvalSpec;
  /** Places problems found later (onnxruntime refusing the model or a feed) at their line in the spec. */
  check: Checker;
  dir: string;
  model: EvalModel;
  data: Dataset;
  out: OutputPlan;
  inputs: InputPlan[];
  /** Indices of the samples evaluated, in data order. */
  samples: number[];
  labelField?: Field;
  slices: Slices;
  variants: ResolvedVariant[];
  /** Model-file variants read and checked, by configuration id. */
  files: Map<string, FileModel>;
  /** The calibration samples, when a variant quantizes activations. */
  calibration?: CheckedCalibration;
}

/** Options of the check. */
export interface CheckOptions {
  signal?: AbortSignal;
  dataCacheBytes?: number;
  onProgress?: (done: number, total: number) => void;
  /** Plan files (absolute paths) added as variants unless the spec lists them already. */
  extraPlans?: string[];
  /** Model files (absolute paths) added as model-file variants unless the spec lists them already. */
  extraModels?: ExtraModel[];
  /** onnxruntime threads (recorded in model-file variants' session options). */
  threads?: number;
}

/**
 * Indices of the samples evaluated: all (or those of `pool`, what calibration leaves), or `limit` of them drawn
 * with `seed` (kept in data order).
 */
export function pickSamples(count: number, limit: number | undefined, seed: number, pool?: number[]): number[] {
  const all = pool ? [...pool] : Array.from({ length: count }, (_, i) => i);
  if (limit === undefined || limit >= all.length) return all;
  const random = mulberry32(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, limit).sort((a, b) => a - b);
}

/** A model file added as a variant (`quantlens export --spec`), with the session options it runs with. */
export interface ExtraModel {
  file: string;
  sessionOptions?: FileSessionOptions;
}

/** Reads and checks a spec, its model, data and plans; throws SpecError before any inference. */
export async function checkEval(specPath: string, options: CheckOptions = {}): Promise<CheckedEval> {
  const { text, spec, check } = await readSpec(specPath);
  const dir = path.dirname(specPath);
  withExtraPlans(spec, dir, options.extraPlans ?? []);
  withExtraModels(spec, dir, options.extraModels ?? []);
  const model = await loadModel(spec, dir, check, options.signal);
  const data = await loadData(spec, text, dir, check, options.dataCacheBytes);
  const out = checkOutput(spec, model, check);
  const split =
    typeof spec.calibration?.data === 'string'
      ? sliceCalibration(spec, data.count, (all) => checkSlices(spec, data, all, check), check)
      : calibrationSplit(spec, data.count, check);
  const samples = pickSamples(data.count, spec.limit, spec.seed, split.pool);
  const inputs = planInputs(spec, model, data, check);
  const separate = await separateCalibration(spec, model, dir, check, options.dataCacheBytes);
  check.throwIfAny();
  const labelField = await checkSamples({ spec, inputs, data, samples, out, check, ...options });
  const calibration = separate ?? calibrationOfSplit(spec, data, inputs, split.calibration);
  if (calibration) await checkCalibrationSamples(calibration, spec, out, check);
  const slices = checkSlices(spec, data, samples, check);
  const files = new Map<string, FileModel>();
  const variants = await resolveVariants(spec, dir, model, check, files, options.threads);
  check.throwIfAny();
  if (model.weights.length === 0) {
    const skipped = model.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
    check.add(
      '/model',
      `Model '${spec.model}' has no quantizable float32 weights to vary${skipped ? ` (${skipped})` : ''}.`,
    );
    check.throwIfAny();
  }
  const all = { specPath, text, spec, check, dir, model, data, out, inputs, samples, labelField, variants, files };
  return { ...all, slices: slices!, ...(calibration ? { calibration } : {}) };
}

/** The calibration drawn from the evaluation data (a split or a slice), if any. */
function calibrationOfSplit(
  spec: EvalSpec,
  data: Dataset,
  inputs: InputPlan[],
  samples: number[] | undefined,
): CheckedCalibration | undefined {
  if (!spec.calibration || !samples) return undefined;
  const c = spec.calibration;
  const source = typeof c.data === 'string' ? `slice ${c.data}` : SPLIT_SOURCE;
  return { spec: c, data, inputs, samples, source, disjoint: true };
}

/** The calibration samples' values checked like the evaluation's (shapes, numbers). */
async function checkCalibrationSamples(
  c: CheckedCalibration,
  spec: EvalSpec,
  out: OutputPlan,
  check: Checker,
): Promise<void> {
  // Calibration needs no labels: an outputs task without a label field checks only the inputs.
  const task = { ...spec.task, type: 'outputs' as const };
  await checkSamples({
    spec: { ...spec, task, label: '\u0000' },
    inputs: c.inputs,
    data: c.data,
    samples: c.samples,
    out,
    check,
  });
  check.throwIfAny();
}

/** Adds plan variants the spec does not list (paths relative to the spec's folder, as a spec would name them). */
function withExtraPlans(spec: EvalSpec, dir: string, plans: readonly string[]): void {
  for (const file of plans) {
    const listed = spec.variants.some((v) => 'plan' in v && path.resolve(dir, v.plan) === path.resolve(file));
    if (!listed) spec.variants.push({ plan: path.relative(dir, file).split(path.sep).join('/') });
  }
}

/** Adds model-file variants the spec does not list (an export evaluated next to the plan it came from). */
function withExtraModels(spec: EvalSpec, dir: string, models: readonly ExtraModel[]): void {
  for (const { file, sessionOptions } of models) {
    const listed = spec.variants.some((v) => 'model' in v && path.resolve(dir, v.model) === path.resolve(file));
    const model = path.relative(dir, file).split(path.sep).join('/');
    if (!listed) spec.variants.push(sessionOptions ? { model, sessionOptions } : { model });
  }
}

/** The largest spec and plan files read (both are small JSON documents). */
const SPEC_LIMIT = 16 * 2 ** 20;

async function readSpec(specPath: string): Promise<{ text: string; spec: EvalSpec; check: Checker }> {
  const bytes = await readRegularFile(specPath, SPEC_LIMIT, undefined, `The spec ${specPath}`).catch(
    (error: unknown) => {
      throw new SpecError(specPath, [
        {
          pointer: '',
          message: `Cannot read the spec: ${error instanceof ModelError ? error.message : plainErrorMessage(error)}`,
          range: { line: 0, character: 0, endLine: 0, endCharacter: 0 },
        },
      ]);
    },
  );
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  const { spec, json } = parseSpec(text, specPath);
  return { text, spec, check: new Checker(specPath, json) };
}

async function loadModel(spec: EvalSpec, dir: string, check: Checker, signal?: AbortSignal): Promise<EvalModel> {
  const modelPath = path.resolve(dir, spec.model);
  try {
    await fs.access(modelPath);
    return await prepareEvalModel(modelPath, signal);
  } catch (error) {
    const message =
      error instanceof ModelError
        ? error.message
        : (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? `Model '${spec.model}' does not exist (looked for ${modelPath}).`
          : `Model '${spec.model}' cannot be read: ${(error as Error).message}`;
    check.add('/model', message);
    check.throwIfAny();
    throw error;
  }
}

async function loadData(
  spec: EvalSpec,
  text: string,
  dir: string,
  check: Checker,
  cacheBytes?: number,
): Promise<Dataset> {
  try {
    const single = !Array.isArray((JSON.parse(text) as { data: unknown }).data);
    return await readDataset(spec.data, dir, single, { cacheBytes });
  } catch (error) {
    if (error instanceof DataProblem) {
      check.add(error.pointer, error.message);
      check.throwIfAny();
    }
    throw error;
  }
}

/** The output compared: float32, and for classification one score per class. */
function checkOutput(spec: EvalSpec, model: EvalModel, check: Checker): OutputPlan {
  const output = model.outputs.find((o) => o.name === (spec.task.output ?? model.outputs[0]?.name));
  if (!output) {
    check.add(
      '/task/output',
      `The model has no output '${spec.task.output}'; its outputs are ${model.outputs.map((o) => `'${o.name}'`).join(', ')}.`,
    );
    check.throwIfAny();
    throw new Error('unreachable: a problem was added');
  }
  if (output.dtype !== 'float32')
    check.add('/task', `Output '${output.name}' is ${output.dtype}; evaluation compares float32 outputs.`);
  const outDims = (output.shape ?? []).slice(1);
  const lastDim = outDims[outDims.length - 1];
  const width = typeof lastDim === 'number' ? lastDim : undefined;
  const outSize = outDims.every((d) => typeof d === 'number')
    ? (outDims as number[]).reduce((a, b) => a * b, 1)
    : undefined;
  if (spec.task.type === 'classification' && outSize !== undefined && width !== undefined && outSize !== width) {
    check.add(
      '/task/output',
      `Output '${output.name}' ${dimsText(output.shape)} has ${outSize} values per sample; classification needs one score per class ([batch, classes]).`,
    );
  }
  return { output, width, outSize };
}

function checkSlices(spec: EvalSpec, data: Dataset, samples: number[], check: Checker): Slices | undefined {
  try {
    return buildSlices(
      spec.slices,
      samples.length,
      (field, k) => (field === SAMPLE_INDEX ? samples[k] : data.fields.get(field)?.scalar(samples[k])),
      spec.label,
    );
  } catch (error) {
    if (!(error instanceof SliceProblem)) throw error;
    check.add(error.pointer, error.message);
    return undefined;
  }
}

/** The spec's variants with their plan files read and checked against the model's weights. */
async function resolveVariants(
  spec: EvalSpec,
  dir: string,
  model: EvalModel,
  check: Checker,
  files: Map<string, FileModel>,
  threads?: number,
): Promise<ResolvedVariant[]> {
  const variants: ResolvedVariant[] = [];
  for (const [i, v] of spec.variants.entries()) {
    if ('scheme' in v) {
      variants.push({ scheme: v.scheme });
      continue;
    }
    if ('model' in v) {
      const file = await checkFileVariant(v, i, dir, model, check, threads);
      if (file) files.set(file.variant.id, file);
      if (file) variants.push(file.variant);
      continue;
    }
    const pointer = `/variants/${i}/plan`;
    const planPath = path.resolve(dir, v.plan);
    let planText: string;
    try {
      planText = Buffer.from(
        await readRegularFile(planPath, SPEC_LIMIT, undefined, `Plan file '${v.plan}'`),
      ).toString();
    } catch (error) {
      const why = error instanceof ModelError ? error.message.replace(/\.$/, '') : plainErrorMessage(error);
      check.add(pointer, `${why} (looked for ${planPath}).`);
      continue;
    }
    const parsed = parsePlan(planText);
    if (!parsed.plan) {
      const where = parsed.problems.map((p) => `line ${p.range.line + 1}: ${p.message}`).join('; ');
      check.add(pointer, `Plan '${v.plan}' is invalid: ${where}`);
      continue;
    }
    const unknown = unknownLayers(parsed.plan, model.weights);
    if (unknown.length > 0) {
      check.add(
        pointer,
        `Plan '${v.plan}' names ${unknown.map((u) => `'${u}'`).join(', ')}, which the model has no quantizable float32 weight or layer for.`,
      );
      continue;
    }
    if (!spec.calibration && planQuantizesActivations(parsed.plan)) {
      check.add(pointer, `Plan '${v.plan}' quantizes activations (+a entries): add "calibration": {"samples": N}.`);
      continue;
    }
    variants.push({ id: `plan:${v.plan}`, label: v.name ?? path.basename(v.plan), plan: parsed.plan });
  }
  return variants;
}
