/**
 * A starter evaluation spec for a model, from its signature: the task is inferred from the inputs and outputs
 * (integer ids [batch, seq] in and [batch, seq, vocab] out: a language model; [batch, classes] out: a
 * classifier; one value per sample: regression; anything else: output agreement), and `inputs` lists every
 * model input, so the user sees what must be fed.
 */
import type { ValueInfo } from '../onnx/overview';
import type { TaskKind } from './metrics';

/** A model's graph inputs and outputs. */
export interface ModelSignature {
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
}

/** The inferred task, the output it reads and, for a language model, the input that takes the token ids. */
export interface InferredTask {
  type: TaskKind;
  output?: string;
  tokensInput?: string;
  /** Why, in words (shown to the user). */
  reason: string;
}

const isInteger = (dtype: string): boolean => /^u?int(8|16|32|64)$/i.test(dtype);
const rank = (v: ValueInfo): number => v.shape?.length ?? -1;
const last = (v: ValueInfo): unknown => v.shape?.[v.shape.length - 1];

/** Infers the task from the model's signature. */
export function inferTask(sig: ModelSignature): InferredTask {
  const ids = sig.inputs.find((i) => isInteger(i.dtype) && rank(i) === 2);
  const logits = sig.outputs.find((o) => rank(o) === 3 && !isInteger(o.dtype));
  if (ids && logits) {
    return {
      type: 'language-model',
      output: logits.name,
      tokensInput: ids.name,
      reason: `integer ids '${ids.name}' [batch, seq] in, '${logits.name}' [batch, seq, vocab] out`,
    };
  }
  const scores = sig.outputs.find((o) => rank(o) === 2 && !isInteger(o.dtype) && last(o) !== 1);
  if (scores) return { type: 'classification', output: scores.name, reason: `'${scores.name}' [batch, classes] out` };
  const single = sig.outputs.find((o) => (rank(o) === 2 && last(o) === 1) || rank(o) === 1);
  if (single) return { type: 'regression', output: single.name, reason: `one value per sample in '${single.name}'` };
  return { type: 'outputs', output: sig.outputs[0]?.name, reason: 'no task recognised: outputs compared with fp32' };
}

/** The field the token windows are read from in a drafted language-model spec. */
export const TOKENS_FIELD = 'tokens';

/** A starter spec (as a JSON value) for `model` and `data` (paths relative to the spec). */
export function draftSpec(model: string, data: string, sig: ModelSignature): Record<string, unknown> {
  const task = inferTask(sig);
  const inputs = Object.fromEntries(
    sig.inputs.map((i) => [i.name, i.name === task.tokensInput ? TOKENS_FIELD : i.name] as const),
  );
  const common = { model, data: { path: data } };
  const variants = ['fp16', 'int8-channel', 'int4-block32'];
  switch (task.type) {
    case 'language-model':
      return {
        ...common,
        task: { type: 'language-model', tokens: TOKENS_FIELD, output: task.output },
        inputs,
        variants,
        budget: { perplexityIncrease: 5 },
      };
    case 'classification':
      return {
        ...common,
        task: { type: 'classification', output: task.output },
        inputs,
        label: 'label',
        slices: [{ by: 'label' }],
        variants,
        budget: { accuracyDrop: 1 },
      };
    case 'regression':
      return {
        ...common,
        task: { type: 'regression', output: task.output },
        inputs,
        label: 'label',
        variants,
        budget: { mseIncrease: 5 },
      };
    default:
      return {
        ...common,
        task: { type: 'outputs', ...(task.output ? { output: task.output } : {}) },
        inputs,
        variants,
        budget: { kl: 0.05 },
      };
  }
}
