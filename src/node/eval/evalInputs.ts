/**
 * The model's inputs as the evaluation feeds them: which field feeds each input and how (planInputs), the
 * check of every selected sample's values and label before any inference (checkSamples), and a batch's
 * feeds (batchInputs).
 */
import type { TaskKind } from '../../core/eval/metrics';
import type { EvalSpec } from '../../core/eval/spec';
import type { ValueInfo } from '../../core/onnx/overview';
import { DataProblem, type Dataset, type Field } from './dataFields';
import type { Checker } from './evalCheck';
import type { EvalModel } from './evalModel';

/** How one model input is fed. */
export interface InputPlan {
  name: string;
  /** Where the spec says how it is fed (for messages). */
  pointer: string;
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

/** The output compared, and its per-sample size: classes or vocabulary (`width`), values (`outSize`). */
export interface OutputPlan {
  output: ValueInfo;
  width?: number;
  outSize?: number;
}

const product = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);

/** A shape for messages: `[batch, 16]`, `[?]`. */
export const dimsText = (shape: readonly (number | string | null)[] | null): string =>
  shape ? `[${shape.map((d) => d ?? '?').join(', ')}]` : '[?]';

const feedDtype = (dtype: string): InputPlan['dtype'] | undefined =>
  dtype === 'float32' || dtype === 'int64' || dtype === 'int32' ? dtype : undefined;

/** Maps model inputs to fields and checks their dtype and size; problems go to `check`. */
export function planInputs(spec: EvalSpec, model: EvalModel, data: Dataset, check: Checker): InputPlan[] {
  for (const key of Object.keys(spec.inputs)) {
    if (!model.inputs.some((i) => i.name === key)) {
      check.add(
        `/inputs/${key}`,
        `The model has no input '${key}'; its inputs are ${model.inputs.map((i) => `'${i.name}'`).join(', ')}.`,
      );
    }
  }
  return model.inputs.flatMap((input, k) => {
    const plan = planInput(spec, input, k, data, check);
    return plan ? [plan] : [];
  });
}

function planInput(spec: EvalSpec, input: ValueInfo, k: number, data: Dataset, check: Checker): InputPlan | undefined {
  const isLm = spec.task.type === 'language-model';
  const mapping = spec.inputs[input.name] ?? { field: isLm && k === 0 ? spec.task.tokens! : input.name };
  // The token windows (T + 1 ids) feed the first T; mapped explicitly or by default.
  const lm = isLm && mapping.field === spec.task.tokens;
  const pointer = spec.inputs[input.name] ? `/inputs/${input.name}` : lm ? '/task/tokens' : '/inputs';
  const field = data.fields.get(mapping.field);
  if (!field) {
    const fieldList = [...data.fields.keys()].join(', ');
    check.add(
      pointer,
      `No field '${mapping.field}' feeds model input '${input.name}' ${dimsText(input.shape)}; the data has ${fieldList}. Map it in "inputs".`,
    );
    return undefined;
  }
  const dtype = feedDtype(input.dtype);
  if (!dtype) {
    check.add(
      pointer,
      `Model input '${input.name}' is ${input.dtype}; evaluation feeds float32, int64 and int32 inputs.`,
    );
    return undefined;
  }
  const fieldSize = product(field.shape) - (lm ? 1 : 0);
  const modelDims = (input.shape ?? []).slice(1);
  const known = modelDims.every((d) => typeof d === 'number');
  const dims =
    mapping.shape ??
    (known && modelDims.length > 0
      ? (modelDims as number[])
      : lm
        ? [fieldSize]
        : field.shape.length > 0
          ? field.shape
          : [1]);
  const size = product(dims);
  const fixed = known ? product(modelDims as number[]) : undefined;
  const problem = shapeProblem({ input, field: mapping.field, fieldShape: field.shape, fieldSize, lm, dims, fixed });
  if (problem) {
    check.add(mapping.shape && problem.atShape ? `${pointer}/shape` : pointer, problem.message);
    return undefined;
  }
  const { scale = 1, offset = 0 } = mapping;
  return { name: input.name, pointer, field, dtype, dims, size, scale, offset, window: lm };
}

/** What shapeProblem compares: a field, the dims it is fed with, the model input. */
interface ShapeCheck {
  input: ValueInfo;
  field: string;
  fieldShape: readonly number[];
  /** Values per sample the field gives (minus the last token for a language model). */
  fieldSize: number;
  lm: boolean;
  /** Per-sample dims fed: the spec's "shape", else the model's or the field's. */
  dims: readonly number[];
  /** Values per sample the model's input fixes, when its dims are all numbers. */
  fixed?: number;
}

/**
 * Why a field cannot feed an input with these dims (onnxruntime would refuse it on the first run): the spec's
 * "shape" holding another number of values than the field, sizes that differ, or another rank or dim than the
 * model declares. `atShape`: the problem is the spec's "shape".
 */
function shapeProblem(c: ShapeCheck): { message: string; atShape: boolean } | undefined {
  const { input, dims, fieldSize } = c;
  const size = product(dims);
  const fieldText = `${dimsText(c.fieldShape)}${c.lm ? ' minus the last token' : ''}`;
  if (size !== fieldSize && (c.fixed === undefined || c.fixed === fieldSize)) {
    return {
      atShape: true,
      message: `The shape ${dimsText(dims)} given for model input '${input.name}' holds ${size} value(s) per sample, but field '${c.field}' has ${fieldSize} (${fieldText}).`,
    };
  }
  if (size !== fieldSize || (c.fixed !== undefined && c.fixed !== size)) {
    return {
      atShape: false,
      message: `Field '${c.field}' has ${fieldSize} value(s) per sample (${fieldText}) but model input '${input.name}' ${dimsText(input.shape)} takes ${c.fixed ?? size} per sample.`,
    };
  }
  if (!input.shape) return undefined;
  const modelDims = input.shape.slice(1);
  const given = `[batch, ${dims.join(', ')}]`;
  if (modelDims.length !== dims.length) {
    return {
      atShape: true,
      message: `Model input '${input.name}' is ${dimsText(input.shape)} (rank ${input.shape.length}); field '${c.field}' would be fed as ${given} (rank ${dims.length + 1}). Set "shape" in "inputs" to the dims after the batch axis.`,
    };
  }
  const k = modelDims.findIndex((d, i) => typeof d === 'number' && d !== dims[i]);
  if (k < 0) return undefined;
  return {
    atShape: true,
    message: `Model input '${input.name}' is ${dimsText(input.shape)}; field '${c.field}' would be fed as ${given}: dim ${k + 1} is ${dims[k]}, the model takes ${modelDims[k]}.`,
  };
}

/** What checking the samples needs. */
export interface SampleCheck {
  spec: EvalSpec;
  inputs: InputPlan[];
  data: Dataset;
  samples: number[];
  out: OutputPlan;
  check: Checker;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Checks every selected sample's values (numbers, size) and label against the task; problems name the sample.
 * Images are decoded here (and large files read), so it reports progress and yields every 100 ms or so.
 * Returns the label field (the tokens for a language model).
 */
export async function checkSamples(c: SampleCheck): Promise<Field | undefined> {
  const { spec, data, samples, check } = c;
  const task = spec.task.type;
  const labelField = task === 'language-model' ? data.fields.get(spec.task.tokens!) : data.fields.get(spec.label);
  if ((task === 'classification' || task === 'regression') && !labelField) {
    check.add(
      '/label',
      `No label field '${spec.label}'; the data has ${[...data.fields.keys()].join(', ')}. Set "label" to the field with the ${task === 'classification' ? 'class index' : 'target value(s)'}.`,
    );
  }
  if (task === 'language-model' && !labelField) return undefined; // reported by planInputs
  let yielded = performance.now();
  for (const [k, s] of samples.entries()) {
    if ((k & 63) === 63 && performance.now() - yielded > 100) {
      c.onProgress?.(k, samples.length);
      await new Promise(setImmediate);
      c.signal?.throwIfAborted();
      yielded = performance.now();
    }
    const full = c.inputs.some((input) => checkInput(c, input, s));
    if (full || (labelField && task !== 'language-model' && checkLabel(c, labelField, s))) break;
  }
  return labelField;
}

/** Adds a problem; true when the checker is full (stop checking). */
const bad = (check: Checker, pointer: string, message: string): boolean => {
  check.add(pointer, message);
  return check.full;
};

/** Checks sample s of one input; true when the checker is full. */
function checkInput(c: SampleCheck, input: InputPlan, s: number): boolean {
  let values: ArrayLike<number>;
  try {
    values = input.field.values(s);
  } catch (error) {
    // A sample the data cannot give (not numbers, an image that does not decode): at its source in the spec.
    const pointer = error instanceof DataProblem ? error.pointer : `/inputs/${input.name}`;
    return bad(c.check, pointer, (error as Error).message);
  }
  const expected = input.size + (input.window ? 1 : 0);
  const at = input.field.where(s);
  if (values.length !== expected) {
    return bad(
      c.check,
      `/inputs/${input.name}`,
      `Field '${input.field.name}' of ${at} has ${values.length} values; model input '${input.name}' needs ${expected}${input.window ? ' (a window of T + 1 tokens)' : ''}.`,
    );
  }
  if (input.dtype === 'float32') return false;
  const k = Array.prototype.findIndex.call(values, (v: number) => !Number.isInteger(v));
  if (
    k >= 0 &&
    bad(
      c.check,
      `/inputs/${input.name}`,
      `Field '${input.field.name}' of ${at} holds ${values[k]} at position ${k}; model input '${input.name}' takes integers.`,
    )
  )
    return true;
  const { width } = c.out;
  if (!input.window || width === undefined) return false;
  const t = Array.prototype.findIndex.call(values, (v: number) => v < 0 || v >= width);
  return (
    t >= 0 &&
    bad(
      c.check,
      '/task/tokens',
      `Token ${values[t]} at position ${t} of ${at} is outside the model's vocabulary of ${width}.`,
    )
  );
}

/** Checks sample s's label (a class index, or as many targets as outputs); true when the checker is full. */
function checkLabel(c: SampleCheck, labelField: Field, s: number): boolean {
  const { width, outSize } = c.out;
  if (c.spec.task.type === 'classification') {
    const y = labelField.scalar(s);
    if (typeof y === 'number' && Number.isInteger(y) && y >= 0 && (width === undefined || y < width)) return false;
    return bad(
      c.check,
      '/label',
      `Label ${JSON.stringify(y)} of ${labelField.where(s)} is not a class index${width !== undefined ? ` in 0..${width - 1} (the model's output has ${width} classes)` : ''}.`,
    );
  }
  let values: ArrayLike<number> = [];
  try {
    values = labelField.values(s);
  } catch (error) {
    if (bad(c.check, error instanceof DataProblem ? error.pointer : '/label', (error as Error).message)) return true;
  }
  if (outSize === undefined || values.length === outSize) return false;
  return bad(
    c.check,
    '/label',
    `Target of ${labelField.where(s)} has ${values.length} value(s); the model's output has ${outSize} per sample.`,
  );
}

/** One batch's input buffers, `rows` rows (a fixed batch is padded with the last sample). */
export function batchInputs(
  inputs: readonly InputPlan[],
  chunk: readonly number[],
  rows: number,
): { input: InputPlan; buffer: Float32Array | Int32Array | BigInt64Array }[] {
  return inputs.map((input) => {
    const n = rows * input.size;
    const buffer =
      input.dtype === 'float32'
        ? new Float32Array(n)
        : input.dtype === 'int32'
          ? new Int32Array(n)
          : new BigInt64Array(n);
    for (let r = 0; r < rows; r++) {
      const values = input.field.values(chunk[Math.min(r, chunk.length - 1)]);
      fillRow(buffer, r * input.size, values, input.size, input.scale, input.offset);
    }
    return { input, buffer };
  });
}

/** One batch's labels, as scoring takes them. */
export function batchLabels(task: TaskKind, labelField: Field | undefined, chunk: readonly number[]) {
  return chunk.map((s): ArrayLike<number> | undefined => {
    if (task === 'classification') return [labelField!.scalar(s) as number];
    if (task === 'regression') return labelField!.values(s);
    if (task === 'language-model') return Array.from(labelField!.values(s)).slice(1);
    return undefined;
  });
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
