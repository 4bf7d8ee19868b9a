/**
 * A pool of analysis worker threads (one per core by default). Tasks run largest first; a memory budget
 * keeps the tensors in flight within bounds (a task waits while others hold the budget, unless nothing
 * else is running). Aborting terminates the busy workers; idle workers never keep the process alive.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { ModelError, type ModelErrorInfo } from '../core/onnx/errors';
import type { AnalysisResult, AnalysisTask } from './analysisTask';
import { startWorker, workerScript } from './workers';

/** What a worker posts back for a task. */
export type WorkerReply =
  { id: number; ok: true; result: AnalysisResult } | { id: number; ok: false; error: ModelErrorInfo };

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
  busy: boolean;
}

/** A pool of analysis workers. */
export class AnalysisPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private nextId = 1;
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
      const active = new Map<Slot, () => void>();
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (error !== undefined) {
          // Stop whatever is still running for this run: those workers are replaced on demand.
          for (const [slot, detach] of active) {
            detach();
            this.retire(slot);
          }
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
        const id = this.nextId++;
        running++;
        inFlight += sizes[index];
        const onMessage = (reply: WorkerReply): void => {
          if (reply.id !== id) return;
          detach();
          slot.busy = false;
          slot.worker.unref();
          running--;
          inFlight -= sizes[index];
          if (!reply.ok) {
            finish(new ModelError(reply.error));
            return;
          }
          results[index] = reply.result;
          finished++;
          if (!settled) onResult?.(index, reply.result);
          pump();
        };
        const onError = (error: Error): void => {
          detach();
          this.retire(slot);
          finish(
            new ModelError({
              code: 'io',
              message: `Analysing '${tasks[index].tensor}' failed: ${error.message}`,
              tensor: tasks[index].tensor,
            }),
          );
        };
        const onExit = (code: number): void => {
          detach();
          this.retire(slot);
          finish(
            new ModelError({
              code: 'io',
              message: `The analysis worker stopped unexpectedly (exit code ${code}) while analysing '${tasks[index].tensor}'.`,
              tensor: tasks[index].tensor,
            }),
          );
        };
        const detach = (): void => {
          slot.worker.off('message', onMessage);
          slot.worker.off('error', onError);
          slot.worker.off('exit', onExit);
          active.delete(slot);
        };
        active.set(slot, detach);
        slot.worker.on('message', onMessage);
        slot.worker.on('error', onError);
        slot.worker.on('exit', onExit);
        slot.worker.postMessage({ id, task: tasks[index] });
      };
      pump();
    });
  }

  private acquire(): Slot {
    let slot = this.slots.find((s) => !s.busy);
    if (!slot) {
      slot = { worker: startWorker(this.workerScript), busy: false };
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
