/**
 * One model's cost, measured inside its own child process (costProcess.ts): file size, session creation
 * time, peak RSS over the RSS before the session, and per-run latency per batch size after warm-up.
 */
import * as ort from 'onnxruntime-node';
import type { CostSample } from '../../core/cost/costTypes';
import { mulberry32 } from '../../core/random';
import { loadModelFile } from '../modelFile';
import { readRegularFile } from '../safeRead';
import { ortSessionOptions } from '../eval/fileVariant';
import type { CostRequest, FeedTensor } from './costProtocol';

/** The largest external data file read (Node's largest Buffer). */
const EXTERNAL_LIMIT = 2 ** 31 - 1;

/** onnxruntime's message, first line. */
const ortMessage = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error))
    .split('\n')[0]
    .replace(/^\[ONNXRuntimeError\] : \d+ : \w+ : /, '');

/** Measures the model the request names (see CostRequest). */
export async function measureModel(request: CostRequest, signal?: AbortSignal): Promise<CostSample> {
  const loaded = await loadModelFile(request.model, signal);
  const externalData: { path: string; data: Uint8Array }[] = [];
  for (const [location, real] of loaded.externalPaths)
    externalData.push({
      path: location,
      data: await readRegularFile(real, EXTERNAL_LIMIT, signal, `The external data file '${location}'`),
    });
  const fileBytes = loaded.bytes.length + externalData.reduce((s, f) => s + f.data.length, 0);
  const baseline = process.memoryUsage().rss;
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(loaded.bytes, {
    ...ortSessionOptions(request.sessionOptions),
    ...(externalData.length > 0 ? { externalData } : {}),
  });
  const sessionMs = performance.now() - t0;
  const latency: CostSample['latency'] = {};
  try {
    for (const batch of request.batchSizes) {
      signal?.throwIfAborted();
      latency[batch] = await timeBatch(session, request, batch, signal);
    }
  } finally {
    await session.release();
  }
  // maxRSS is in kilobytes: the process's high-water mark, reached by the session or one of the runs.
  const peakRssBytes = Math.max(0, process.resourceUsage().maxRSS * 1024 - baseline);
  return { fileBytes, sessionMs, peakRssBytes, latency };
}

/** Per-run times at one batch size, or why the model cannot take it. */
async function timeBatch(
  session: ort.InferenceSession,
  request: CostRequest,
  batch: number,
  signal?: AbortSignal,
): Promise<{ times: number[] } | { skipped: string }> {
  const fixed = fixedFirstAxis(session, batch);
  if (fixed) return { skipped: fixed };
  const given = request.feeds?.[batch];
  const feeds = given ? tensorsOf(given) : randomFeeds(session, batch, request.dims ?? {});
  if (typeof feeds === 'string') return { skipped: feeds };
  try {
    for (let i = 0; i < Math.max(1, request.warmup); i++) await session.run(feeds);
  } catch (error) {
    return { skipped: `onnxruntime refused batch ${batch}: ${ortMessage(error)}` };
  }
  const times: number[] = [];
  const start = performance.now();
  while (times.length < request.runs || performance.now() - start < request.seconds * 1000) {
    signal?.throwIfAborted();
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  return { times };
}

/** Why the model cannot take `batch` rows: an input whose first axis is fixed to another size. */
function fixedFirstAxis(session: ort.InferenceSession, batch: number): string | undefined {
  for (const m of session.inputMetadata) {
    if (!m.isTensor) continue;
    const first = m.shape[0];
    if (typeof first === 'number' && first > 0 && first !== batch)
      return `the model's input '${m.name}' has a fixed first axis of ${first}`;
  }
  return undefined;
}

function tensorsOf(feeds: Record<string, FeedTensor>): Record<string, ort.Tensor> {
  return Object.fromEntries(
    Object.entries(feeds).map(([name, f]) => [name, new ort.Tensor(f.type, f.data as Float32Array, f.dims)]),
  );
}

const ZEROS: Record<string, (n: number) => ort.Tensor['data']> = {
  int8: (n) => new Int8Array(n),
  uint8: (n) => new Uint8Array(n),
  int32: (n) => new Int32Array(n),
  int64: (n) => new BigInt64Array(n),
  bool: (n) => new Uint8Array(n),
  float16: (n) => new Uint16Array(n),
};

/** Random inputs for a model without a spec: floats uniform in [-1, 1), integer and bool inputs zero. */
function randomFeeds(
  session: ort.InferenceSession,
  batch: number,
  dims: Record<string, number>,
): Record<string, ort.Tensor> | string {
  const random = mulberry32(1);
  const feeds: Record<string, ort.Tensor> = {};
  for (const m of session.inputMetadata) {
    if (!m.isTensor) return `input '${m.name}' is not a tensor`;
    const shape = m.shape.map((d, k) =>
      k === 0 && typeof d !== 'number' ? batch : typeof d === 'number' && d >= 0 ? d : (dims[String(d)] ?? 1),
    );
    const n = shape.reduce((a, b) => a * b, 1);
    if (m.type === 'float32')
      feeds[m.name] = new ort.Tensor(
        'float32',
        Float32Array.from({ length: n }, () => random() * 2 - 1),
        shape,
      );
    else if (ZEROS[m.type]) feeds[m.name] = new ort.Tensor(m.type as 'int8', ZEROS[m.type](n) as Int8Array, shape);
    else return `input '${m.name}' is ${m.type}, which random inputs do not cover`;
  }
  return feeds;
}
