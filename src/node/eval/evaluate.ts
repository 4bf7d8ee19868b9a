/**
 * Runs a slice evaluation: checks the spec and every sample before any inference, then runs fp32 and every
 * configuration (variants, sweep, one-at-a-time and leave-one-out sensitivity) batch by batch in one
 * onnxruntime session, scoring every sample against fp32 into per-slice accumulators (memory stays bounded
 * by the data, not by the number of configurations). Runs in the evaluation child process (and in-process
 * for the CLI and tests).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../../core/onnx/errors';
import { mulberry32 } from '../../core/random';
import type { JsonProblem } from '../../core/eval/jsonLocation';
import type { SliceMetrics } from '../../core/eval/metrics';
import { KEEP_FLOAT, parsePlan, planEntry, unknownLayers } from '../../core/eval/plan';
import type {
  EvalResults,
  Flag,
  LayerResult,
  LayerSchemeResult,
  MetricsBySlice,
  VariantResult,
} from '../../core/eval/results';
import { buildSlices, SAMPLE_INDEX, SliceProblem, type Slices } from '../../core/eval/slices';
import { parseSpec, SpecError, sweepSchemes, type EvalSpec } from '../../core/eval/spec';
import {
  budgetViolations,
  DEFAULT_THRESHOLDS,
  describeViolation,
  effectOf,
  layerBudget,
  primaryEffect,
  thresholdBudget,
  type Thresholds,
} from '../../core/eval/verdict';
import { DataProblem, readDataset, type Dataset, type Field } from './data';
import { prepareEvalModel, WeightVariants, type EvalModel, type EvalWeight } from './evalModel';
import { Scoring, ScoringWorker, type ScoringResults, type ScoringSetup } from './scoring';

/** Progress of a run. */
export interface EvalProgress {
  phase: 'checking' | 'running';
  /** Inference runs (running) or samples checked (checking): done and planned. */
  done: number;
  total: number;
  message: string;
}

/** Options of a run. */
export interface EvalOptions {
  signal?: AbortSignal;
  onProgress?: (p: EvalProgress) => void;
  thresholds?: Partial<Thresholds>;
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  threads?: number;
  /** The QuantLens version written into the results. */
  version?: string;
  /** Score in a worker thread beside onnxruntime (default: scoringWorkerPays). */
  scoringWorker?: boolean;
  /** Bytes of data a large source keeps in memory (readDataset's default: 256 MB). */
  dataCacheBytes?: number;
}

/** Output values to score (all configurations) from which a worker pays for its start (about 20-70 ms). */
const WORKER_MIN_VALUES = 4_000_000;

/**
 * Whether scoring in a worker thread should pay: enough values to score, and a core that onnxruntime leaves
 * free. onnxruntime's intra-op pool takes the physical cores by default (half the logical ones with SMT);
 * where it takes them all (2 cores here), a worker only competes with it (measured: no gain), so scoring
 * stays on the main thread, between runs.
 */
export function scoringWorkerPays(
  outputValues: number,
  threads: number | undefined,
  cores = availableParallelism(),
): boolean {
  return outputValues >= WORKER_MIN_VALUES && (threads !== undefined ? threads < cores : cores >= 4);
}

/** A configuration: a scheme per fed weight. */
interface Config {
  schemes: string[];
}

interface InputPlan {
  name: string;
  field: Field;
  dtype: 'float32' | 'int64' | 'int32';
  /** Per-sample dims (without the batch axis). */
  dims: number[];
  size: number;
  scale: number;
  offset: number;
  /** Language models: take the first `size` of T + 1 tokens. */
  window: boolean;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const product = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);

/** Indices of the samples evaluated: all, or `limit` drawn with `seed` (kept in data order). */
export function pickSamples(count: number, limit: number | undefined, seed: number): number[] {
  const all = Array.from({ length: count }, (_, i) => i);
  if (limit === undefined || limit >= count) return all;
  const random = mulberry32(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, limit).sort((a, b) => a - b);
}

/** Collects problems found while checking; thrown together as one SpecError. */
class Checker {
  readonly problems: JsonProblem[] = [];
  constructor(
    private readonly file: string,
    private readonly json: ReturnType<typeof parseSpec>['json'],
  ) {}
  add(pointer: string, message: string): void {
    if (this.problems.length < 20) this.problems.push(this.json.problem(pointer, message));
  }
  throwIfAny(): void {
    if (this.problems.length > 0) throw new SpecError(this.file, this.problems);
  }
}

const dimsText = (shape: readonly (number | string | null)[] | null): string =>
  shape ? `[${shape.map((d) => d ?? '?').join(', ')}]` : '[?]';

/** Reads and checks a spec, its model and data; throws SpecError before any inference. */
async function prepare(specPath: string, signal?: AbortSignal, dataCacheBytes?: number) {
  const text = await fs.readFile(specPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new SpecError(specPath, [
      {
        pointer: '',
        message: `Cannot read the spec: ${error.message}`,
        range: { line: 0, character: 0, endLine: 0, endCharacter: 0 },
      },
    ]);
  });
  const { spec, json } = parseSpec(text, specPath);
  const check = new Checker(specPath, json);
  const dir = path.dirname(specPath);
  const modelPath = path.resolve(dir, spec.model);
  let model: EvalModel;
  try {
    await fs.access(modelPath);
    model = await prepareEvalModel(modelPath, signal);
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
  let data: Dataset;
  try {
    data = await readDataset(spec.data, dir, !Array.isArray((JSON.parse(text) as { data: unknown }).data), {
      cacheBytes: dataCacheBytes,
    });
  } catch (error) {
    if (error instanceof DataProblem) {
      check.add(error.pointer, error.message);
      check.throwIfAny();
    }
    throw error;
  }
  return { text, spec, check, dir, model, data };
}

/** Maps model inputs to fields and checks every selected sample's inputs and label. */
function planInputs(spec: EvalSpec, model: EvalModel, data: Dataset, check: Checker): InputPlan[] {
  const fieldList = [...data.fields.keys()].join(', ');
  for (const key of Object.keys(spec.inputs)) {
    if (!model.inputs.some((i) => i.name === key)) {
      check.add(
        `/inputs/${key}`,
        `The model has no input '${key}'; its inputs are ${model.inputs.map((i) => `'${i.name}'`).join(', ')}.`,
      );
    }
  }
  const plans: InputPlan[] = [];
  for (const [k, input] of model.inputs.entries()) {
    const isLm = spec.task.type === 'language-model';
    const mapping = spec.inputs[input.name] ?? { field: isLm && k === 0 ? spec.task.tokens! : input.name };
    // The token windows (T + 1 ids) feed the first T; mapped explicitly or by default.
    const lm = isLm && mapping.field === spec.task.tokens;
    const pointer = spec.inputs[input.name] ? `/inputs/${input.name}` : lm ? '/task/tokens' : '/inputs';
    const field = data.fields.get(mapping.field);
    if (!field) {
      check.add(
        pointer,
        `No field '${mapping.field}' feeds model input '${input.name}' ${dimsText(input.shape)}; the data has ${fieldList}. Map it in "inputs".`,
      );
      continue;
    }
    const dtype =
      input.dtype === 'float32'
        ? 'float32'
        : input.dtype === 'int64'
          ? 'int64'
          : input.dtype === 'int32'
            ? 'int32'
            : undefined;
    if (!dtype) {
      check.add(
        pointer,
        `Model input '${input.name}' is ${input.dtype}; evaluation feeds float32, int64 and int32 inputs.`,
      );
      continue;
    }
    const fieldSize = product(field.shape) - (lm ? 1 : 0);
    const modelDims = (input.shape ?? []).slice(1);
    const dims =
      mapping.shape ??
      (modelDims.every((d) => typeof d === 'number') && modelDims.length > 0
        ? (modelDims as number[])
        : lm
          ? [fieldSize]
          : field.shape.length > 0
            ? field.shape
            : [1]);
    const size = product(dims);
    const fixed = modelDims.every((d) => typeof d === 'number') ? product(modelDims as number[]) : undefined;
    if (size !== fieldSize || (fixed !== undefined && fixed !== size)) {
      check.add(
        pointer,
        `Field '${mapping.field}' has ${fieldSize} value(s) per sample (${dimsText(field.shape)}${lm ? ' minus the last token' : ''}) but model input '${input.name}' ${dimsText(input.shape)} takes ${fixed ?? size} per sample.`,
      );
      continue;
    }
    plans.push({
      name: input.name,
      field,
      dtype,
      dims,
      size,
      scale: mapping.scale ?? 1,
      offset: mapping.offset ?? 0,
      window: lm,
    });
  }
  return plans;
}

/**
 * Checks every selected sample's values (numbers, size) and label against the task; problems name the sample.
 * Images are decoded here (and large files read), so it reports progress and yields every 100 ms or so.
 */
async function checkSamples(
  spec: EvalSpec,
  inputs: InputPlan[],
  data: Dataset,
  samples: number[],
  width: number | undefined,
  outSize: number | undefined,
  check: Checker,
  options: EvalOptions,
): Promise<Field | undefined> {
  const labelField =
    spec.task.type === 'language-model' ? data.fields.get(spec.task.tokens!) : data.fields.get(spec.label);
  const needsLabel = spec.task.type === 'classification' || spec.task.type === 'regression';
  if (needsLabel && !labelField) {
    check.add(
      '/label',
      `No label field '${spec.label}'; the data has ${[...data.fields.keys()].join(', ')}. Set "label" to the field with the ${spec.task.type === 'classification' ? 'class index' : 'target value(s)'}.`,
    );
  }
  if (spec.task.type === 'language-model' && !labelField) return undefined; // reported by planInputs
  const bad = (pointer: string, message: string): boolean => {
    check.add(pointer, message);
    return check.problems.length >= 20;
  };
  let yielded = performance.now();
  for (const [k, s] of samples.entries()) {
    if ((k & 63) === 63 && performance.now() - yielded > 100) {
      options.onProgress?.({
        phase: 'checking',
        done: k,
        total: samples.length,
        message: `Checking the data: sample ${k} of ${samples.length}`,
      });
      await new Promise(setImmediate);
      options.signal?.throwIfAborted();
      yielded = performance.now();
    }
    for (const input of inputs) {
      let values: ArrayLike<number>;
      try {
        values = input.field.values(s);
      } catch (error) {
        // A sample the data cannot give (not numbers, an image that does not decode): at its source in the spec.
        if (bad(error instanceof DataProblem ? error.pointer : `/inputs/${input.name}`, (error as Error).message))
          return labelField;
        continue;
      }
      const expected = input.size + (input.window ? 1 : 0);
      if (values.length !== expected) {
        if (
          bad(
            `/inputs/${input.name}`,
            `Field '${input.field.name}' of ${input.field.where(s)} has ${values.length} values; model input '${input.name}' needs ${expected}${input.window ? ' (a window of T + 1 tokens)' : ''}.`,
          )
        )
          return labelField;
      } else if (input.dtype !== 'float32') {
        for (let k = 0; k < values.length; k++) {
          if (!Number.isInteger(values[k])) {
            if (
              bad(
                `/inputs/${input.name}`,
                `Field '${input.field.name}' of ${input.field.where(s)} holds ${values[k]} at position ${k}; model input '${input.name}' takes integers.`,
              )
            )
              return labelField;
            break;
          }
        }
        if (input.window && width !== undefined) {
          for (let k = 0; k < values.length; k++) {
            if (values[k] < 0 || values[k] >= width) {
              if (
                bad(
                  '/task/tokens',
                  `Token ${values[k]} at position ${k} of ${input.field.where(s)} is outside the model's vocabulary of ${width}.`,
                )
              )
                return labelField;
              break;
            }
          }
        }
      }
    }
    if (!labelField || spec.task.type === 'language-model') continue;
    if (spec.task.type === 'classification') {
      const y = labelField.scalar(s);
      if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || (width !== undefined && y >= width)) {
        if (
          bad(
            '/label',
            `Label ${JSON.stringify(y)} of ${labelField.where(s)} is not a class index${width !== undefined ? ` in 0..${width - 1} (the model's output has ${width} classes)` : ''}.`,
          )
        )
          return labelField;
      }
    } else {
      let values: ArrayLike<number> = [];
      try {
        values = labelField.values(s);
      } catch (error) {
        if (bad(error instanceof DataProblem ? error.pointer : '/label', (error as Error).message)) return labelField;
      }
      if (outSize !== undefined && values.length !== outSize) {
        if (
          bad(
            '/label',
            `Target of ${labelField.where(s)} has ${values.length} value(s); the model's output has ${outSize} per sample.`,
          )
        )
          return labelField;
      }
    }
  }
  return labelField;
}

/** Writes one sample's values (times scale, plus offset) into a feed at `at`; integer inputs are rounded. */
function fillRow(
  buffer: Float32Array | Int32Array | BigInt64Array,
  at: number,
  values: ArrayLike<number>,
  size: number,
  scale: number,
  offset: number,
): void {
  if (buffer instanceof BigInt64Array) {
    for (let k = 0; k < size; k++) buffer[at + k] = BigInt(Math.round(values[k] * scale + offset));
  } else if (scale === 1 && offset === 0 && ArrayBuffer.isView(values)) {
    buffer.set((values as Float32Array).subarray(0, size), at); // typed to typed, converted natively (integer inputs hold integers: checked up front)
  } else if (buffer instanceof Int32Array) {
    for (let k = 0; k < size; k++) buffer[at + k] = Math.round(values[k] * scale + offset);
  } else {
    for (let k = 0; k < size; k++) buffer[at + k] = values[k] * scale + offset;
  }
}

/** Runs the evaluation a spec describes. Throws SpecError (bad spec or data, before inference) or the run's error. */
export async function evaluate(specPath: string, options: EvalOptions = {}): Promise<EvalResults> {
  const t0 = performance.now();
  const { signal } = options;
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  options.onProgress?.({ phase: 'checking', done: 0, total: 0, message: 'Checking the spec, model and data' });
  const { text, spec, check, dir, model, data } = await prepare(path.resolve(specPath), signal, options.dataCacheBytes);
  const task = spec.task.type;

  const output = model.outputs.find((o) => o.name === (spec.task.output ?? model.outputs[0]?.name));
  if (!output) {
    check.add(
      '/task/output',
      `The model has no output '${spec.task.output}'; its outputs are ${model.outputs.map((o) => `'${o.name}'`).join(', ')}.`,
    );
    check.throwIfAny();
  }
  if (output!.dtype !== 'float32')
    check.add('/task', `Output '${output!.name}' is ${output!.dtype}; evaluation compares float32 outputs.`);
  const outDims = (output!.shape ?? []).slice(1);
  const lastDim = outDims[outDims.length - 1];
  const width = typeof lastDim === 'number' ? lastDim : undefined;
  const outSize = outDims.every((d) => typeof d === 'number') ? product(outDims as number[]) : undefined;
  if (task === 'classification' && outSize !== undefined && width !== undefined && outSize !== width) {
    check.add(
      '/task/output',
      `Output '${output!.name}' ${dimsText(output!.shape)} has ${outSize} values per sample; classification needs one score per class ([batch, classes]).`,
    );
  }

  const samples = pickSamples(data.count, spec.limit, spec.seed);
  const inputs = planInputs(spec, model, data, check);
  check.throwIfAny();
  const labelField = await checkSamples(spec, inputs, data, samples, width, outSize, check, options);
  let slices: Slices | undefined;
  try {
    slices = buildSlices(
      spec.slices,
      samples.length,
      (field, k) => (field === SAMPLE_INDEX ? samples[k] : data.fields.get(field)?.scalar(samples[k])),
      spec.label,
    );
  } catch (error) {
    if (!(error instanceof SliceProblem)) throw error;
    check.add(error.pointer, error.message);
  }

  // Variants, then the sweep and sensitivity configurations.
  const weights = model.weights;
  const variants = new WeightVariants(weights);
  const all = (scheme: string): Config => ({ schemes: weights.map(() => scheme) });
  const variantDefs: { id: string; label: string; kind: VariantResult['kind']; config: Config }[] = [];
  for (const [i, v] of spec.variants.entries()) {
    if ('scheme' in v) {
      variantDefs.push({ id: v.scheme, label: v.scheme, kind: 'scheme', config: all(v.scheme) });
      continue;
    }
    const planPath = path.resolve(dir, v.plan);
    const planText = await fs.readFile(planPath, 'utf8').catch(() => undefined);
    if (planText === undefined) {
      check.add(`/variants/${i}/plan`, `Plan file '${v.plan}' does not exist (looked for ${planPath}).`);
      continue;
    }
    const parsed = parsePlan(planText);
    if (!parsed.plan) {
      check.add(
        `/variants/${i}/plan`,
        `Plan '${v.plan}' is invalid: ${parsed.problems.map((p) => `line ${p.range.line + 1}: ${p.message}`).join('; ')}`,
      );
      continue;
    }
    const unknown = unknownLayers(parsed.plan, weights);
    if (unknown.length > 0) {
      check.add(
        `/variants/${i}/plan`,
        `Plan '${v.plan}' names ${unknown.map((u) => `'${u}'`).join(', ')}, which the model has no quantizable float32 weight or layer for.`,
      );
      continue;
    }
    const plan = parsed.plan;
    variantDefs.push({
      id: `plan:${v.plan}`,
      label: v.name ?? path.basename(v.plan),
      kind: 'plan',
      config: { schemes: weights.map((w) => planEntry(plan, w).scheme) },
    });
  }
  check.throwIfAny();
  if (weights.length === 0) {
    check.add(
      '/model',
      `Model '${spec.model}' has no quantizable float32 weights to vary${model.skipped.length ? ` (${model.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : ''}.`,
    );
    check.throwIfAny();
  }

  const sweep = spec.sweep ? sweepSchemes(spec.sweep) : [];
  const schemeVariants = spec.variants.flatMap((v) => ('scheme' in v ? [v.scheme] : []));
  const oatSchemes = spec.sensitivity
    ? (spec.sensitivity.schemes ?? (schemeVariants.length > 0 ? schemeVariants : ['int8-channel']))
    : [];
  const totalBytes = (config: Config): number =>
    weights.reduce((sum, w, k) => sum + variants.bytes(w, config.schemes[k]), 0);
  const aggressive = [...oatSchemes].sort((a, b) => totalBytes(all(a)) - totalBytes(all(b)))[0];
  const looScheme = spec.sensitivity && spec.sensitivity.leaveOneOut ? aggressive : undefined;
  const configs: Config[] = [
    ...variantDefs.map((v) => v.config),
    ...sweep.map(all),
    ...oatSchemes.flatMap((s) =>
      weights.map((_, k) => ({ schemes: weights.map((__, j) => (j === k ? s : KEEP_FLOAT)) })),
    ),
    ...(looScheme
      ? weights.map((_, k) => ({ schemes: weights.map((__, j) => (j === k ? KEEP_FLOAT : looScheme)) }))
      : []),
  ];

  // Scoring: in a worker thread when there is enough of it to gain from running beside onnxruntime.
  const setup: ScoringSetup = {
    task,
    width: task === 'regression' ? (outSize ?? 1) : width,
    probabilities: spec.task.probabilities,
    configs: configs.length,
    slices: slices!.names.length,
    sliceOf: slices!.of,
  };
  // Output values per sample: from the output's shape, or for a language model with a symbolic sequence axis,
  // one row of logits per token fed.
  const tokensFed = inputs.find((i) => i.window)?.size ?? 1;
  const outputValues =
    samples.length * (outSize ?? (width ?? 1) * (task === 'language-model' ? tokensFed : 1)) * (configs.length + 1);
  const inWorker = options.scoringWorker ?? scoringWorkerPays(outputValues, options.threads);
  const scoring: Scoring | ScoringWorker = inWorker ? new ScoringWorker(setup) : new Scoring(setup);

  // Inference.
  let session: ort.InferenceSession | undefined;
  let done = 0;
  let inferenceMs = 0;
  let results: ScoringResults;
  const tPrepared = performance.now();
  try {
    session = await ort.InferenceSession.create(model.bytes, {
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      graphOptimizationLevel: 'all',
    });
    const tensors = new Map<string, ort.Tensor>();
    const weightTensor = (w: EvalWeight, scheme: string): ort.Tensor => {
      const key = `${w.name}\u0000${scheme}`;
      let t = tensors.get(key);
      if (!t) {
        t = new ort.Tensor('float32', variants.get(w, scheme), w.dims);
        tensors.set(key, t);
      }
      return t;
    };
    const fixedBatch = inputs
      .map((i) => model.inputs.find((m) => m.name === i.name)!.shape?.[0])
      .find((d) => typeof d === 'number') as number | undefined;
    const batchSize = fixedBatch ?? spec.batchSize;
    const batches = Math.ceil(samples.length / batchSize);
    const total = batches * (configs.length + 1);
    const report = (message: string): void => options.onProgress?.({ phase: 'running', done, total, message });
    report(`${samples.length} samples, ${configs.length + 1} configurations`);
    for (let b = 0; b < batches; b++) {
      const chunk = samples.slice(b * batchSize, (b + 1) * batchSize);
      const rows = fixedBatch ?? chunk.length;
      const feeds: Record<string, ort.Tensor> = {};
      for (const input of inputs) {
        const buffer =
          input.dtype === 'float32'
            ? new Float32Array(rows * input.size)
            : input.dtype === 'int32'
              ? new Int32Array(rows * input.size)
              : new BigInt64Array(rows * input.size);
        for (let r = 0; r < rows; r++) {
          const values = input.field.values(chunk[Math.min(r, chunk.length - 1)]); // a fixed batch is padded with the last sample
          fillRow(buffer, r * input.size, values, input.size, input.scale, input.offset);
        }
        feeds[input.name] = new ort.Tensor(input.dtype, buffer, [rows, ...input.dims]);
      }
      const labels = chunk.map((s) => {
        if (task === 'classification') return [labelField!.scalar(s) as number];
        if (task === 'regression') return labelField!.values(s);
        if (task === 'language-model') return Array.from(labelField!.values(s)).slice(1);
        return undefined;
      });
      const run = async (config: Config | undefined, into?: ort.Tensor): Promise<ort.Tensor> => {
        signal?.throwIfAborted();
        const runFeeds: Record<string, ort.Tensor> = { ...feeds };
        weights.forEach((w, k) => {
          runFeeds[w.name] = weightTensor(w, config ? config.schemes[k] : KEEP_FLOAT);
        });
        const t = performance.now();
        const out = await session!.run(runFeeds, into ? { [output!.name]: into } : [output!.name]);
        inferenceMs += performance.now() - t;
        done++;
        return out[output!.name];
      };
      // onnxruntime-node runs a session synchronously on this thread; a scoring worker scores one
      // configuration while the next runs (in-thread scoring: run, then score). fp32's outputs stay with the
      // scorer for the batch; the configurations' are written where the scorer reads them, if it offers that.
      const ref = await run(undefined);
      const refData = ref.data as Float32Array;
      await scoring.setReference({ first: b * batchSize, count: chunk.length, rows, labels }, refData);
      const buffer = scoring.outputBuffer(refData.length);
      const into = buffer && new ort.Tensor('float32', buffer, ref.dims);
      for (let c = 0; c < configs.length; c++) {
        const out = await run(configs[c], into); // given `into`, onnxruntime writes there (and returns a copy)
        await scoring.score(c, buffer ?? (out.data as Float32Array));
        if (c % 8 === 7)
          report(`${b * batchSize} of ${samples.length} samples, configuration ${c + 2} of ${configs.length + 1}`);
      }
      report(`${Math.min(samples.length, (b + 1) * batchSize)} of ${samples.length} samples`);
    }
    results = await scoring.results();
  } finally {
    await session?.release();
    if (scoring instanceof ScoringWorker) await scoring.close();
  }

  // Results.
  const names = slices!.names;
  const metricsOf = (metrics: SliceMetrics[]): MetricsBySlice =>
    Object.fromEntries(names.map((n, k) => [n, metrics[k]]));
  const bigEnough = (name: string): boolean =>
    slices!.sizes[names.indexOf(name)] >= thresholds.minSliceSize || name === 'all';
  const worstOf = (metrics: MetricsBySlice): LayerSchemeResult['worst'] => {
    let worst = { slice: 'all', effect: effectOf(metrics.all) };
    for (const name of names) {
      if (!bigEnough(name)) continue;
      const e = effectOf(metrics[name]);
      if (
        primaryEffect(task, e) > primaryEffect(task, worst.effect) ||
        (primaryEffect(task, e) === primaryEffect(task, worst.effect) && (e.kl ?? 0) > (worst.effect.kl ?? 0))
      )
        worst = { slice: name, effect: e };
    }
    return worst;
  };
  const budgetForLayers = layerBudget(spec.budget, thresholds);
  const schemeResult = (accs: SliceMetrics[]): LayerSchemeResult => {
    const metrics = metricsOf(accs);
    return {
      metrics,
      worst: worstOf(metrics),
      meetsBudget: names.filter(bigEnough).every((n) => budgetViolations(n, metrics[n], budgetForLayers).length === 0),
    };
  };
  const variantResults: VariantResult[] = [
    {
      id: 'fp32',
      label: 'fp32',
      kind: 'reference',
      weightBytes: totalBytes(all(KEEP_FLOAT)),
      metrics: metricsOf(results.reference),
      violations: [],
    },
    ...variantDefs.map((v, i) => {
      const metrics = metricsOf(results.configs[i]);
      return {
        id: v.id,
        label: v.label,
        kind: v.kind,
        weightBytes: totalBytes(v.config),
        metrics,
        violations: names.flatMap((n) => budgetViolations(n, metrics[n], spec.budget)),
      };
    }),
  ];
  let c = variantDefs.length;
  const sweepMetrics = sweep.map(() => metricsOf(results.configs[c++]));
  const layers: LayerResult[] = weights.map((w) => ({
    weight: w.name,
    layer: w.layer,
    layers: w.layers,
    op: w.op,
    bytes: Object.fromEntries([KEEP_FLOAT, 'fp16', ...oatSchemes].map((s) => [s, variants.bytes(w, s)])),
    oneAtATime: {},
    rank: 0,
  }));
  for (const s of oatSchemes) for (const layer of layers) layer.oneAtATime[s] = schemeResult(results.configs[c++]);
  if (looScheme) for (const layer of layers) layer.leaveOneOut = schemeResult(results.configs[c++]);
  if (aggressive) {
    const order = [...layers].sort(
      (a, b) =>
        primaryEffect(task, b.oneAtATime[aggressive].worst.effect) -
          primaryEffect(task, a.oneAtATime[aggressive].worst.effect) ||
        (b.oneAtATime[aggressive].worst.effect.kl ?? 0) - (a.oneAtATime[aggressive].worst.effect.kl ?? 0),
    );
    order.forEach((l, i) => {
      l.rank = i + 1;
    });
  }
  const flags: Flag[] = [];
  const flagBudget = thresholdBudget(thresholds);
  for (const layer of layers) {
    let best: Flag | undefined;
    let bestValue = -Infinity;
    for (const s of oatSchemes) {
      const r = layer.oneAtATime[s];
      for (const name of names.filter(bigEnough)) {
        const violations = budgetViolations(name, r.metrics[name], flagBudget);
        if (violations.length === 0) continue;
        const value = primaryEffect(task, effectOf(r.metrics[name])) + (effectOf(r.metrics[name]).kl ?? 0) * 1e-6;
        if (value > bestValue) {
          bestValue = value;
          const v = violations.find((x) => x.metric !== 'kl') ?? violations[0];
          best = {
            weight: layer.weight,
            layer: layer.layer,
            scheme: s,
            slice: name,
            effect: effectOf(r.metrics[name]),
            message: `${s} on ${layer.layer}: ${describeViolation(v)} on slice ${name}`,
          };
        }
      }
    }
    if (best) flags.push(best);
  }

  const specContent = JSON.parse(text) as unknown;
  const dataFiles = data.files.map((f) => ({ file: path.relative(dir, f.file) || '.', sha256: f.sha256 }));
  const ortVersion = (ort.env as { versions?: { common?: string } }).versions?.common ?? 'unknown';
  return {
    format: 'quantlens-eval-results',
    version: 1,
    createdAt: new Date().toISOString(),
    tool: {
      quantlens: options.version ?? '0.0.0',
      onnxruntime: ortVersion,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    spec: { file: path.basename(specPath), sha256: sha256(Buffer.from(text)), content: specContent },
    model: { file: spec.model, sha256: model.sha256, bytes: model.fileBytes },
    data: { files: dataFiles, samples: data.count, evaluated: samples.length, limit: spec.limit, seed: spec.seed },
    task,
    output: output!.name,
    budget: spec.budget,
    thresholds,
    slices: names.map((name, k) => ({ name, n: slices!.sizes[k] })),
    variants: variantResults,
    ...(spec.sweep
      ? {
          sweep: {
            granularity: spec.sweep.granularity,
            asymmetric: spec.sweep.asymmetric,
            bits: spec.sweep.bits,
            schemes: sweep,
            metrics: sweepMetrics,
          },
        }
      : {}),
    ...(spec.sensitivity
      ? { sensitivity: { schemes: oatSchemes, rankScheme: aggressive, leaveOneOutScheme: looScheme, layers } }
      : {}),
    flags,
    skippedWeights: model.skipped,
    budgetViolated: variantResults.some((v) => v.violations.length > 0),
    timings: {
      totalMs: performance.now() - t0,
      prepareMs: tPrepared - t0,
      inferenceMs,
      scoringMs: results.busyMs,
      scoringInWorker: inWorker,
      runs: done,
      samplesPerRun: samples.length,
    },
  };
}
