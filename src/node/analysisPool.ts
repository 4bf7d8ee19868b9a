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
  /** The tensor being analysed, for the message if the worker dies. */
  tensor?: string;
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

  /** Runs tasks and resolves with their results in task order; rejects on the first error or on abort. */
  run(tasks: readonly AnalysisTask[], options: RunOptions = {}): Promise<AnalysisResult[]> {
    const { signal, onResult } = options;
    const sizes = tasks.map(taskBytes);
    const largest = Math.max(0, ...sizes);
    const budget = options.memoryBudget ?? 1.25 * largest + 128 * 2 ** 20;
    // Largest first: the long tasks start early and the small ones fill the gaps.
    const queue = tasks.map((_, i) => i).sort((a, b) => sizes[b] - sizes[a]);
    const results: AnalysisResult[] = new Array(tasks.length);
    return new Promise<AnalysisResult[]>((resolve, reject) => {
      if (this.disposed) {
        reject(new Error('The analysis pool was disposed.'));
        return;
      }
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let inFlight = 0;
      let running = 0;
      let finished = 0;
      let settled = false;
      const active = new Set<Slot>();
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (error !== undefined) {
          // Stop whatever is still running for this run: those workers are replaced on demand.
          for (const slot of active) this.retire(slot);
          active.clear();
          reject(error);
        } else {
          resolve(results);
        }
      };
      const onAbort = (): void => finish(signal?.reason ?? new Error('Analysis cancelled.'));
      signal?.addEventListener('abort', onAbort, { once: true });

      const pump = (): void => {
        while (!settled && queue.length > 0 && running < this.size) {
          // The largest waiting task that fits the budget; anything runs when nothing else does.
          const pos = running === 0 ? 0 : queue.findIndex((i) => inFlight + sizes[i] <= budget);
          if (pos < 0) break;
          start(queue.splice(pos, 1)[0]);
        }
        if (!settled && finished === tasks.length) finish();
      };

      const start = (index: number): void => {
        const slot = this.acquire();
        running++;
        inFlight += sizes[index];
        slot.tensor = tasks[index].tensor;
        active.add(slot);
        const release = (): void => {
          active.delete(slot);
          slot.busy = false;
          slot.tensor = undefined;
          slot.worker.unref();
          running--;
          inFlight -= sizes[index];
        };
        slot.client.request('task/run', tasks[index]).then(
          (result) => {
            if (settled) return;
            release();
            results[index] = result;
            finished++;
            onResult?.(index, result);
            pump();
          },
          (error: unknown) => {
            if (settled) return;
            if (error instanceof RpcError && error.code === RpcCode.peerExited) {
              active.delete(slot);
              this.retire(slot);
              finish(new ModelError({ code: 'io', message: error.message, tensor: tasks[index].tensor }));
            } else {
              release();
              finish(error);
            }
          },
        );
      };
      pump();
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
              `The analysis worker stopped unexpectedly (exit code ${code})${created.tensor ? ` while analysing '${created.tensor}'` : ''}.`,
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
