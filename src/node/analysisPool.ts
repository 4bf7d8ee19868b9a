/**
 * A pool of analysis worker threads (one per core by default). Tasks run largest first; a memory budget
 * keeps the tensors in flight within bounds (a task waits while others hold the budget, unless nothing
 * else is running). Aborting terminates the busy workers; idle workers never keep the process alive.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { ModelError } from '../core/onnx/errors';
import { peerExited, type RpcClient } from '../core/rpc/client';
import { errorFromInfo } from '../core/rpc/domainErrors';
import { RpcCode, RpcError } from '../core/rpc/errors';
import type { AnalysisMethods } from './analysisProtocol';
import type { AnalysisResult, AnalysisTask } from './analysisTask';
import { workerClient } from './rpcPorts';
import { startWorker, workerScript } from './workers';

/** Options of one pool run. */
export interface RunOptions {
  signal?: AbortSignal;
  /** Called as each task finishes (index into the task list). */
  onResult?: (index: number, result: AnalysisResult) => void;
  /**
   * Bytes of float32 values allowed in flight at once (default: 1.25 x the largest task + 128 MiB). A task
   * larger than the budget runs alone.
   */
  memoryBudget?: number;
  /** Keep every result for the promise (default true); false: only onResult sees them, the promise gets []. */
  collect?: boolean;
}

/** Float32 bytes a task holds while it runs (the decoded values; the read buffer is reused or smaller). */
export function taskBytes(task: AnalysisTask): number {
  if (task.dequant) {
    return (
      4 * task.dequant.q.dims.reduce((a, b) => a * b, 1) + (task.source.kind === 'file' ? 4 * task.source.elements : 0)
    );
  }
  return task.source.kind === 'file'
    ? Math.max(task.source.length, 4 * task.source.elements)
    : task.source.values.byteLength;
}

interface Slot {
  worker: Worker;
  client: RpcClient<AnalysisMethods>;
  busy: boolean;
  /** What is being analysed ("'name'", or a batch), for the message if the worker dies. */
  tensor?: string;
}

/** Tasks holding less than this go to workers in batches: one round trip for many small tensors. */
const SMALL_TASK_BYTES = 256 * 2 ** 10;
/** A batch closes at this many bytes or tasks (small enough to keep every worker busy and progress flowing). */
const BATCH_BYTES = 2 * 2 ** 20;
const BATCH_TASKS = 512;
/** Results handed to onResult in one macrotask. */
const DELIVER_SLICE = 32;

/** Bits of a sort key that hold the task index (largest first, ties in task order). */
const INDEX_BITS = 2 ** 21;

/**
 * Task indices by size, largest first, ties in task order. 100k tasks are sorted as packed numeric keys
 * ((max - size) * 2^21 + index, exact in a double) by the typed array's native sort: a comparator sort of 100k
 * held the extension host's event loop for tens of ms.
 */
export function largestFirst(sizes: readonly number[]): number[] {
  let max = 0;
  for (const s of sizes) if (s > max) max = s;
  if (sizes.length >= INDEX_BITS || max >= 2 ** 31 || sizes.some((s) => !Number.isInteger(s) || s < 0)) {
    return sizes.map((_, i) => i).sort((a, b) => sizes[b] - sizes[a] || a - b);
  }
  const keys = new Float64Array(sizes.length);
  for (let i = 0; i < sizes.length; i++) keys[i] = (max - sizes[i]) * INDEX_BITS + i;
  keys.sort();
  return Array.from(keys, (k) => k % INDEX_BITS);
}

/**
 * The units of work, largest first: each large task alone, small ones in consecutive batches (in the same
 * largest-first order), so 100k one-value tensors take a few hundred round trips, not 100k.
 */
export function batchTasks(sizes: readonly number[]): number[][] {
  const order = largestFirst(sizes);
  const units: number[][] = [];
  let batch: number[] = [];
  let bytes = 0;
  for (const i of order) {
    if (sizes[i] >= SMALL_TASK_BYTES) {
      units.push([i]);
      continue;
    }
    batch.push(i);
    bytes += sizes[i];
    if (bytes >= BATCH_BYTES || batch.length >= BATCH_TASKS) {
      units.push(batch);
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) units.push(batch);
  return units;
}

/** A pool of analysis workers. */
export class AnalysisPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private disposed = false;
  private readonly workerScript: string;

  constructor(options: { threads?: number; workerScript?: string } = {}) {
    this.size = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
    this.workerScript = options.workerScript ?? workerScript('analysisWorker');
  }

  /** Runs tasks and resolves with their results in task order (unless `collect` is false); rejects on the first error or on abort. */
  run(tasks: readonly AnalysisTask[], options: RunOptions = {}): Promise<AnalysisResult[]> {
    if (this.disposed) return Promise.reject(new Error('The analysis pool was disposed.'));
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    return new Promise<AnalysisResult[]>((resolve, reject) => {
      const workers = { size: this.size, acquire: () => this.acquire(), retire: (slot: Slot) => this.retire(slot) };
      new PoolRun(workers, tasks, options, resolve, reject).pump();
    });
  }

  private acquire(): Slot {
    let slot = this.slots.find((s) => !s.busy);
    if (!slot) {
      const worker = startWorker(this.workerScript);
      const created: Slot = {
        worker,
        busy: false,
        client: workerClient<AnalysisMethods>(worker, {
          name: 'The analysis worker',
          fromInfo: errorFromInfo,
          exitError: (code) =>
            peerExited(
              `The analysis worker stopped unexpectedly (exit code ${code})${created.tensor ? ` while analysing ${created.tensor}` : ''}.`,
            ),
        }),
      };
      slot = created;
      this.slots.push(slot);
    }
    slot.busy = true;
    slot.worker.ref();
    return slot;
  }

  private retire(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate();
  }

  /** Terminates every worker. */
  dispose(): void {
    this.disposed = true;
    for (const slot of this.slots.splice(0)) void slot.worker.terminate();
  }
}

/** One run of the pool: units waiting (largest first), tensors in flight within the budget, how it ends. */
class PoolRun {
  /** Units of work (task indices; see batchTasks) and the bytes each holds. */
  private readonly units: number[][];
  private readonly sizes: number[];
  private readonly budget: number;
  /** Unit indices, largest first; a started unit's entry becomes -1, `head` skips the started prefix. */
  private readonly queue: number[];
  private head = 0;
  private readonly results: AnalysisResult[];
  private readonly active = new Set<Slot>();
  private inFlight = 0;
  private running = 0;
  private finished = 0;
  private settled = false;
  private readonly onAbort = (): void => this.finish(this.options.signal?.reason ?? new Error('Analysis cancelled.'));

  constructor(
    private readonly workers: { size: number; acquire(): Slot; retire(slot: Slot): void },
    private readonly tasks: readonly AnalysisTask[],
    private readonly options: RunOptions,
    private readonly resolve: (results: AnalysisResult[]) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    const taskSizes = tasks.map(taskBytes);
    this.units = batchTasks(taskSizes);
    this.sizes = this.units.map((unit) => unit.reduce((sum, i) => sum + taskSizes[i], 0));
    // A loop, not Math.max(...sizes): a spread of 100k+ arguments overflows the stack.
    this.budget = options.memoryBudget ?? 1.25 * taskSizes.reduce((a, b) => Math.max(a, b), 0) + 128 * 2 ** 20;
    // Largest first: the long tasks start early and the small ones fill the gaps.
    this.queue = this.units.map((_, u) => u).sort((a, b) => this.sizes[b] - this.sizes[a]);
    this.results = options.collect === false ? [] : new Array<AnalysisResult>(tasks.length);
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Starts what may run now; ends the run when every task is done. */
  pump(): void {
    while (!this.settled && this.running < this.workers.size) {
      while (this.head < this.queue.length && this.queue[this.head] < 0) this.head++;
      if (this.head >= this.queue.length) break;
      // The largest waiting unit that fits the budget; anything runs when nothing else does. No splice: with
      // many units, removing from the front of the queue each time was quadratic (seconds).
      const pos = this.running === 0 ? this.head : this.firstFitting();
      if (pos < 0) break;
      const unit = this.queue[pos];
      this.queue[pos] = -1;
      this.start(unit);
    }
    if (!this.settled && this.finished === this.tasks.length) this.finish();
  }

  /** Position of the largest waiting unit that fits the budget, or -1. */
  private firstFitting(): number {
    for (let q = this.head; q < this.queue.length; q++) {
      const u = this.queue[q];
      if (u >= 0 && this.inFlight + this.sizes[u] <= this.budget) return q;
    }
    return -1;
  }

  /** One task alone, or a batch in one round trip. */
  private request(slot: Slot, indices: number[]): Promise<AnalysisResult[]> {
    if (indices.length === 1) return slot.client.request('task/run', this.tasks[indices[0]]).then((r) => [r]);
    return slot.client.request(
      'task/batch',
      indices.map((i) => this.tasks[i]),
    );
  }

  private start(unit: number): void {
    const slot = this.workers.acquire();
    const indices = this.units[unit];
    const first = this.tasks[indices[0]].tensor;
    this.running++;
    this.inFlight += this.sizes[unit];
    slot.tensor = indices.length === 1 ? `'${first}'` : `one of ${indices.length} small tensors from '${first}' on`;
    this.active.add(slot);
    const release = (): void => {
      this.active.delete(slot);
      slot.busy = false;
      slot.tensor = undefined;
      slot.worker.unref();
      this.running--;
      this.inFlight -= this.sizes[unit];
    };
    this.request(slot, indices).then(
      (results) => {
        if (this.settled) return;
        release();
        this.pump();
        this.deliver(indices, results, 0);
      },
      (error: unknown) => {
        if (this.settled) return;
        if (error instanceof RpcError && error.code === RpcCode.peerExited) {
          this.active.delete(slot);
          this.workers.retire(slot);
          this.finish(new ModelError({ code: 'io', message: error.message, tensor: first }));
        } else {
          release();
          this.finish(error);
        }
      },
    );
  }
  /**
   * Hands a unit's results to onResult, a slice per macrotask: the extension host's per-weight work for a
   * batch of 512 must not hold its event loop in one piece.
   */
  private deliver(indices: number[], results: AnalysisResult[], from: number): void {
    if (this.settled) return;
    const end = Math.min(results.length, from + DELIVER_SLICE);
    for (let k = from; k < end; k++) {
      if (this.options.collect !== false) this.results[indices[k]] = results[k];
      this.finished++;
      this.options.onResult?.(indices[k], results[k]);
    }
    if (end < results.length) setImmediate(() => this.deliver(indices, results, end));
    else this.pump();
  }

  private finish(error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    if (error === undefined) {
      this.resolve(this.results);
      return;
    }
    // Stop whatever is still running for this run: those workers are replaced on demand.
    for (const slot of this.active) this.workers.retire(slot);
    this.active.clear();
    this.reject(error);
  }
}
