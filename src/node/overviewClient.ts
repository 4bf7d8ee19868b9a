/** Runs readModelForAnalysis in a worker thread so large files never block the caller's event loop. */
import { ModelError } from '../core/onnx/errors';
import { peerExited } from '../core/rpc/client';
import { errorFromInfo } from '../core/rpc/domainErrors';
import { RpcCode, RpcError } from '../core/rpc/errors';
import type { ModelReadResult, PlannedWeight } from './analysisPlan';
import { PLAN_PAGE_MAX, type OverviewMethods } from './overviewProtocol';
import { workerClient } from './rpcPorts';
import { startWorker } from './workers';

/**
 * Shares the repeated words of each weight (type, role, kind, reason, op) with the weights before it: each
 * message brings its own copy of every string, and 100k copies of "float32" are garbage the host must trace.
 */
function interner(): (w: PlannedWeight) => void {
  const words = new Map<string, string>();
  const one = (s: string): string => {
    const known = words.get(s);
    if (known !== undefined) return known;
    if (words.size < 10_000) words.set(s, s);
    return s;
  };
  return (w) => {
    w.dtype = one(w.dtype);
    w.role = one(w.role) as PlannedWeight['role'];
    w.kind = one(w.kind) as PlannedWeight['kind'];
    if (w.reason !== undefined) w.reason = one(w.reason);
    for (const l of w.layers) l.op = one(l.op);
  };
}

/**
 * Reads a model's overview in a fresh worker (script at `workerScript`), then its plan page by page: each page
 * is one small message, so the caller's event loop runs between pages. Aborting terminates the worker.
 */
export async function readOverviewInWorker(
  workerScript: string,
  modelPath: string,
  signal?: AbortSignal,
): Promise<ModelReadResult> {
  signal?.throwIfAborted();
  const worker = startWorker(workerScript);
  const client = workerClient<OverviewMethods>(worker, {
    name: 'The model reader',
    fromInfo: errorFromInfo,
    exitError: (code) => peerExited(`The model reader stopped unexpectedly (exit code ${code}).`),
  });
  try {
    const { weights, ...summary } = await client.request('model/read', { modelPath }, { signal });
    const plan: PlannedWeight[] = [];
    const intern = interner();
    while (plan.length < weights) {
      const page = await client.request('plan/page', { offset: plan.length, limit: PLAN_PAGE_MAX }, { signal });
      if (page.length === 0) throw new Error(`The model reader returned ${plan.length} of ${weights} planned weights.`);
      for (const w of page) {
        intern(w);
        plan.push(w);
      }
    }
    return { ...summary, plan };
  } catch (error) {
    // A reader that died is an I/O error of the model, as any other failure to read it.
    if (error instanceof RpcError && error.code === RpcCode.peerExited)
      throw new ModelError({ code: 'io', message: error.message });
    throw error;
  } finally {
    void worker.terminate();
  }
}
