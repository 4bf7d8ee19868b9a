/**
 * Scoring of an evaluation's outputs into per-slice accumulators: fp32 against itself and every configuration
 * against fp32, batch by batch. `Scoring` does it on the calling thread; `ScoringWorker` hands the outputs to
 * a worker thread running a `Scoring` (src/node/scoringWorker.ts), so that scoring one configuration overlaps
 * onnxruntime running the next (onnxruntime-node runs a session synchronously on the calling thread). Both
 * give the same numbers: the worker runs the same code on the same values in the same order.
 */
import type { Worker } from 'node:worker_threads';
import { LogitScorer } from '../../core/eval/logitScorer';
import {
  scoreSample,
  SliceAccumulator,
  type SampleScore,
  type ScoreOptions,
  type SliceMetrics,
  type TaskKind,
} from '../../core/eval/metrics';
import { peerExited, type RpcClient } from '../../core/rpc/client';
import { workerClient } from '../rpcPorts';
import { startWorker, workerScript } from '../workers';
import type { ScoringMethods, SharedOutput } from './scoringProtocol';

/** What scoring needs to know of an evaluation, once. */
export interface ScoringSetup {
  task: TaskKind;
  /** Classes, vocabulary or last axis of the output (undefined: taken from the outputs' size). */
  width?: number;
  probabilities?: boolean;
  /** Configurations scored against fp32. */
  configs: number;
  /** Number of slices, and the slices of each evaluated sample (in evaluation order). */
  slices: number;
  sliceOf: number[][];
}

/** One batch: its first sample (in evaluation order), the samples scored, the rows in the outputs, labels. */
export interface BatchInfo {
  first: number;
  count: number;
  rows: number;
  labels: (ArrayLike<number> | undefined)[];
}

/** Per-slice metrics of fp32 and of every configuration (in the order of the setup's slices). */
export interface ScoringResults {
  reference: SliceMetrics[];
  configs: SliceMetrics[][];
  /** Time spent scoring (in the worker when there is one). */
  busyMs: number;
}

/** Scores on the calling thread. */
export class Scoring {
  private readonly reference: SliceAccumulator[];
  private readonly accumulators: SliceAccumulator[][];
  private readonly scorer = new LogitScorer();
  private scratch: { p: Float64Array<ArrayBuffer>; q: Float64Array<ArrayBuffer> };
  private batch?: {
    info: BatchInfo;
    ref: Float32Array;
    options: ScoreOptions;
    positions: number;
    perSample: number;
    fast: boolean;
  };
  private busyMs = 0;
  /** Batches (by first sample) whose fp32 outputs were scored against themselves. */
  private readonly referenced = new Set<number>();

  constructor(private readonly setup: ScoringSetup) {
    this.reference = Array.from({ length: setup.slices }, () => new SliceAccumulator(setup.task));
    this.accumulators = Array.from({ length: setup.configs }, () =>
      Array.from({ length: setup.slices }, () => new SliceAccumulator(setup.task)),
    );
    this.scratch = { p: new Float64Array(setup.width ?? 1), q: new Float64Array(setup.width ?? 1) };
  }

  /**
   * Starts a batch with fp32's outputs, scored against themselves the first time the batch is set (the run stage
   * sets a batch again for each group of configurations).
   */
  setReference(info: BatchInfo, ref: Float32Array): void {
    const t = performance.now();
    const { task, width, probabilities } = this.setup;
    const perSample = ref.length / info.rows;
    const positions = task === 'language-model' || task === 'outputs' ? perSample / (width ?? perSample) : 1;
    const options: ScoreOptions = {
      task,
      width: task === 'regression' ? perSample : (width ?? perSample),
      probabilities,
    };
    if (this.scratch.p.length < options.width)
      this.scratch = { p: new Float64Array(options.width), q: new Float64Array(options.width) };
    const fast = LogitScorer.handles(options);
    if (fast) this.scorer.setReference(ref, info.count, positions, options, info.labels);
    this.batch = { info, ref, options, positions, perSample, fast };
    this.busyMs += performance.now() - t;
    if (this.referenced.has(info.first)) return;
    this.referenced.add(info.first);
    this.add(ref, this.reference);
  }

  /**
   * Where to write a configuration's outputs of the current batch (`length` values, as many as fp32's) before
   * `score`, so that scoring need not copy them: the scorer's kernel memory, valid until the next setReference
   * (undefined where outputs are scored by the reference implementation).
   */
  outputBuffer(length: number): Float32Array | undefined {
    return this.batch?.fast ? this.scorer.outputView(length) : undefined;
  }

  /** Scores configuration c's outputs of the current batch against fp32's. */
  score(c: number, out: Float32Array): void {
    this.add(out, this.accumulators[c]);
  }

  results(): ScoringResults {
    const metrics = (accs: SliceAccumulator[]): SliceMetrics[] => accs.map((a) => a.result());
    return { reference: metrics(this.reference), configs: this.accumulators.map(metrics), busyMs: this.busyMs };
  }

  private add(out: Float32Array, into: SliceAccumulator[]): void {
    const t = performance.now();
    const { info, ref, options, positions, perSample, fast } = this.batch!;
    const { sliceOf } = this.setup;
    const each = (r: number, s: SampleScore): void => {
      for (const k of sliceOf[info.first + r]) into[k].add(s);
    };
    if (fast && out === ref) {
      this.scorer.scoreReference(each);
    } else if (fast) {
      this.scorer.scoreBatch(out, each);
    } else {
      // Regression and probabilities: the reference implementation.
      for (let r = 0; r < info.count; r++)
        each(r, scoreSample(out, ref, r * perSample, positions, options, info.labels[r], this.scratch));
    }
    this.busyMs += performance.now() - t;
  }
}

/** Slots of the ring: outputs waiting for the worker at most (fewer when outputs are large). */
const SLOTS = 8;
/** Bytes of the ring up to which it gets all its slots (it has at least 2). */
const RING_BYTES = 256 * 2 ** 20;

/**
 * Scores in a worker thread; the same calls as Scoring, awaited (they wait only when the worker falls behind).
 * Outputs go through a ring of SharedArrayBuffer slots: copying one there costs a fraction of handing over
 * onnxruntime's buffer (which posts as a copy into fresh memory), and memory stays bounded by the slots.
 */
export class ScoringWorker {
  private readonly worker: Worker;
  private readonly client: RpcClient<ScoringMethods>;
  private ring?: { sab: SharedArrayBuffer; view: Float32Array; slotValues: number; free: number[] };
  private failure?: Error;
  private waiting?: () => void;

  constructor(setup: ScoringSetup, script = workerScript('scoringWorker')) {
    this.worker = startWorker(script);
    this.client = workerClient<ScoringMethods>(this.worker, {
      name: 'The scoring worker',
      exitError: (code) => peerExited(`The scoring worker stopped (exit code ${code}).`),
      fromInfo: (info) => Object.assign(new Error(`Scoring failed: ${info.message}`), { stack: info.stack }),
    });
    this.client.request('setup', setup).catch((error: Error) => this.fail(error));
  }

  async setReference(info: BatchInfo, ref: Float32Array): Promise<void> {
    const { output, free } = await this.share(ref);
    this.client.request('reference', { info, output }).then(free, (error: Error) => this.fail(error));
  }

  /** None: outputs are copied into the ring (onnxruntime does not write into shared memory). */
  outputBuffer(): Float32Array | undefined {
    return undefined;
  }

  async score(c: number, out: Float32Array): Promise<void> {
    const { output, free } = await this.share(out);
    this.client.request('score', { config: c, output }).then(free, (error: Error) => this.fail(error));
  }

  /** Waits for every output sent to be scored and returns the metrics. */
  async results(): Promise<ScoringResults> {
    this.throwIfFailed();
    const results = await this.client.request('results', {});
    // The worker answers in order: a failure of an earlier output has arrived by now.
    this.throwIfFailed();
    return results;
  }

  /** Stops the worker (after results, or to abandon the run). */
  async close(): Promise<void> {
    this.failure ??= new Error('The scoring worker was closed.');
    await this.worker.terminate();
  }

  /** Copies an output into a free slot of the ring (a larger output starts a new ring; the old one is let go). */
  private async share(data: Float32Array): Promise<{ output: SharedOutput; free: () => void }> {
    this.throwIfFailed();
    if (!this.ring || this.ring.slotValues < data.length) {
      const slots = Math.max(2, Math.min(SLOTS, Math.floor(RING_BYTES / (4 * data.length))));
      const sab = new SharedArrayBuffer(4 * data.length * slots);
      this.ring = {
        sab,
        view: new Float32Array(sab),
        slotValues: data.length,
        free: Array.from({ length: slots }, (_, i) => slots - 1 - i),
      };
    }
    const ring = this.ring;
    while (ring.free.length === 0) {
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
      this.throwIfFailed();
    }
    const slot = ring.free.pop()!;
    ring.view.set(data, slot * ring.slotValues);
    const free = (): void => {
      ring.free.push(slot); // a slot of a ring let go is simply dropped with it
      this.wake();
    };
    return { output: { ring: ring.sab, offset: slot * ring.slotValues, length: data.length }, free };
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.wake();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
