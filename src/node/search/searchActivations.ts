/**
 * Activation candidates of the plan search (issue 21: candidates include `w8a8` and `+aN` ids). A layer set to
 * such a candidate has its weight quantized under the id's weight scheme and its activation sites quantized under
 * the id's activation scheme, exactly as an evaluation of the written plan does it: the sites are calibrated once
 * by the evaluation's own calibration (src/node/eval/calibrate.ts, the spec's calibration split, slice or source),
 * a plan's activations are picked by planActivations from the plan the search would write (default fp32, one
 * entry per layer key), and such plans run in the evaluation's QDQ session (Where bypass chains, fed scales,
 * zero points and flags, int32-dequantized biases). Plans without activations run in the plain session as before.
 */
import type * as ortTypes from 'onnxruntime-node';
import { planActivations } from '../../core/eval/activationConfigs';
import { KEEP_FLOAT } from '../../core/eval/plan';
import type { ActivationQuant } from '../../core/quant/activationQuant';
import { parseVariantScheme } from '../../core/quant/schemes';
import { BiasFeeds } from '../eval/activationBias';
import { withQdq, type QdqModel } from '../eval/activationModel';
import { prepareActivations } from '../eval/calibrate';
import type { CheckedEval } from '../eval/evalCheck';
import { openQdqSession, qdqFeeds } from '../eval/evalRun';

/** Whether a candidate id quantizes activations (`w8a8`, `int8-channel+a8`, `fp32+a8`...). */
export const isActivationCandidate = (id: string): boolean => parseVariantScheme(id, true).activation !== undefined;

/** The weight scheme of a candidate (`w8a8`: int8-channel; `fp32+a8`: fp32, the weight kept). */
export const candidateWeightScheme = (id: string): string => parseVariantScheme(id, true).weight;

/** What a plan assignment (weight -> candidate) runs: weight schemes, and the activations it quantizes. */
export interface SearchConfig {
  quantized: Map<string, string>;
  activations?: ReadonlyMap<string, ActivationQuant>;
}

/** The calibrated activation side of a search and its QDQ session. Close it with `release()`. */
export class SearchActivations {
  private readonly configs = new Map<string, SearchConfig>();

  private constructor(
    private readonly input: NonNullable<Awaited<ReturnType<typeof prepareActivations>>>,
    private readonly keys: ReadonlyMap<string, string>,
    private readonly model: QdqModel,
    private readonly session: ortTypes.InferenceSession,
    private readonly biases: BiasFeeds,
  ) {}

  /** Calibrates the sites the activation candidates quantize and opens the QDQ session; undefined when none does. */
  static async open(
    checked: CheckedEval,
    candidates: readonly string[],
    keys: ReadonlyMap<string, string>,
    options: { threads?: number; signal?: AbortSignal } = {},
  ): Promise<SearchActivations | undefined> {
    const ids = candidates.filter(isActivationCandidate);
    if (ids.length === 0) return undefined;
    // The evaluation's calibration, as for a spec whose variants were these candidates.
    const asVariants: CheckedEval = {
      ...checked,
      spec: { ...checked.spec, variants: ids.map((scheme) => ({ scheme })) },
      variants: [],
    };
    const input = await prepareActivations(asVariants, options);
    if (!input) throw new Error('Activation candidates need a calibration block in the spec.');
    const types = [
      ...new Set(ids.map((id) => [...input.plan.paramsFor(parseVariantScheme(id).activation!).values()][0]?.type)),
    ].filter((t) => t !== undefined);
    const model = withQdq(checked.model.bytes, input.sites, types, { biases: true });
    const session = await openQdqSession(checked, model, options.threads);
    const biases = new BiasFeeds(model.biases, new Map(checked.model.weights.map((w) => [w.name, w])));
    return new SearchActivations(input, keys, model, session, biases);
  }

  /** The calibration, as the results of an evaluation record it. */
  get calibration(): NonNullable<Awaited<ReturnType<typeof prepareActivations>>>['calibration'] {
    return this.input.calibration;
  }

  /** Weight schemes and activations of an assignment (weights not listed: fp32, activations float). */
  configOf(assignment: ReadonlyMap<string, string>): SearchConfig {
    const key = [...assignment].map(([w, s]) => `${w}=${s}`).join('\u0000');
    let config = this.configs.get(key);
    if (config) return config;
    const quantized = new Map<string, string>();
    const layers: Record<string, string> = {};
    for (const [w, id] of assignment) {
      const weight = candidateWeightScheme(id);
      if (weight !== KEEP_FLOAT) quantized.set(w, weight);
      layers[this.keys.get(w) ?? w] = id;
    }
    const plan = { default: KEEP_FLOAT, layers };
    const activations = planActivations({ id: 'search', label: 'search', plan }, this.input.plan);
    config = activations ? { quantized, activations } : { quantized };
    if (this.configs.size < 4096) this.configs.set(key, config);
    return config;
  }

  /** Adds the QDQ feeds of `config` to `feeds` (its weights already in) and runs the QDQ session. */
  async run(
    feeds: Record<string, ortTypes.Tensor>,
    config: SearchConfig,
    output: string,
  ): Promise<ortTypes.InferenceSession.ReturnType> {
    Object.assign(feeds, qdqFeeds(this.model, config.activations), this.biases.feeds(config));
    return this.session.run(feeds, [output]);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
