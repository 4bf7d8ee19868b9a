/**
 * The verification right after an export: (1) every exported weight dequantized by onnxruntime equals the
 * simulation bit for bit; (2) the exported model loads and runs in onnxruntime on inputs of the right shapes,
 * next to the source model on the same inputs. Runs where onnxruntime may run (the export child process).
 */
import * as ort from 'onnxruntime-node';
import type { ValueInfo } from '../../core/onnx/overview';
import { mulberry32 } from '../../core/random';
import { loadModelFile, type LoadedModelFile } from '../modelFile';
import { readRegularFile } from '../safeRead';
import { readWeightValues } from '../weightValues';
import { exportCandidates } from './exportCandidates';
import { checkWeight, type WeightCheck } from './verifyWeights';

/** What to verify: the export's source, output and the scheme of each exported weight. */
export interface VerifyRequest {
  source: string;
  output: string;
  opset: number;
  weights: { name: string; scheme: string }[];
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number }) => void;
}

/** The run on generated inputs. */
export interface RunCheck {
  ok: boolean;
  /** Inputs as fed: name -> shape (symbolic dimensions set to 1). */
  inputs: Record<string, number[]>;
  outputs: string[];
  /** Largest |exported - source| over every float output (same inputs, default session options). */
  maxAbsDiff?: number;
  nonFinite: number;
  error?: string;
}

/** The verification's result. */
export interface VerifyResult {
  weights: WeightCheck[];
  checked: number;
  mismatched: number;
  run: RunCheck;
  ok: boolean;
}

/** A tensor for a graph input: random normal floats, zeros for integers and booleans. */
function inputTensor(info: ValueInfo, random: () => number): { tensor: ort.Tensor; shape: number[] } {
  const shape = (info.shape ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const n = shape.reduce((a, b) => a * b, 1);
  switch (info.dtype) {
    case 'float32':
      return {
        tensor: new ort.Tensor(
          'float32',
          Float32Array.from({ length: n }, () => random() * 2 - 1),
          shape,
        ),
        shape,
      };
    case 'int64':
      return { tensor: new ort.Tensor('int64', new BigInt64Array(n), shape), shape };
    case 'int32':
      return { tensor: new ort.Tensor('int32', new Int32Array(n), shape), shape };
    case 'bool':
      return { tensor: new ort.Tensor('bool', new Uint8Array(n), shape), shape };
    case 'float16':
      return { tensor: new ort.Tensor('float16', new Uint16Array(n), shape), shape };
    default:
      throw new Error(`input '${info.name}' has the type ${info.dtype}, which the check cannot generate`);
  }
}

/** A session on a loaded model (external data handed over as read by the hardened reader). */
async function session(loaded: LoadedModelFile): Promise<ort.InferenceSession> {
  const externalData: { path: string; data: Uint8Array }[] = [];
  for (const [location, real] of loaded.externalPaths)
    externalData.push({ path: location, data: await readRegularFile(real, 2 ** 31 - 1) });
  return ort.InferenceSession.create(loaded.bytes, {
    logSeverityLevel: 4,
    ...(externalData.length ? { externalData } : {}),
  });
}

/** Runs the exported model and the source on the same generated inputs. */
export async function runCheck(exported: LoadedModelFile, source: LoadedModelFile): Promise<RunCheck> {
  const random = mulberry32(19);
  const feeds: Record<string, ort.Tensor> = {};
  const inputs: Record<string, number[]> = {};
  try {
    for (const info of exported.overview.inputs) {
      const { tensor, shape } = inputTensor(info, random);
      feeds[info.name] = tensor;
      inputs[info.name] = shape;
    }
    const [a, b] = [await session(exported), await session(source)];
    const [got, want] = [await a.run(feeds), await b.run(feeds)];
    await Promise.all([a.release(), b.release()]);
    let maxAbsDiff = 0;
    let nonFinite = 0;
    for (const [name, t] of Object.entries(got)) {
      if (t.type !== 'float32') continue;
      const x = t.data as Float32Array;
      const y = want[name]?.data as Float32Array | undefined;
      for (let i = 0; i < x.length; i++) {
        if (!Number.isFinite(x[i])) nonFinite++;
        else if (y && Number.isFinite(y[i])) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x[i] - y[i]));
      }
    }
    return { ok: true, inputs, outputs: Object.keys(got), maxAbsDiff, nonFinite };
  } catch (error) {
    return {
      ok: false,
      inputs,
      outputs: [],
      nonFinite: 0,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** Verifies an export (see the file comment). */
export async function verifyExport(request: VerifyRequest): Promise<VerifyResult> {
  const { signal } = request;
  const source = await loadModelFile(request.source, signal);
  const exported = await loadModelFile(request.output, signal);
  const candidates = new Map((await exportCandidates(request.source, source)).map((c) => [c.name, c]));
  const refs = new Map(source.weights.filter((w) => w.graph === 'main').map((w) => [w.name, w]));
  const weights: WeightCheck[] = [];
  for (const [i, { name, scheme }] of request.weights.entries()) {
    signal?.throwIfAborted();
    const c = candidates.get(name);
    const ref = refs.get(name);
    if (!c || !ref) throw new Error(`the exported weight ${name} is not in the source model`);
    const values = (await readWeightValues({ path: request.source, ...source }, ref)) as Float32Array;
    weights.push(await checkWeight(exported, request.output, c, values, scheme, request.opset));
    request.onProgress?.({ done: i + 1, total: request.weights.length });
  }
  const run = await runCheck(exported, source);
  const mismatched = weights.filter((w) => w.mismatches > 0).length;
  const checked = weights.reduce((n, w) => n + w.values, 0);
  return { weights, checked, mismatched, run, ok: mismatched === 0 && run.ok };
}
