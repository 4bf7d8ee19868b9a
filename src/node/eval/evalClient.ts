/** Runs an evaluation in a child process (dist/evalProcess.js) and relays its progress, results or errors. */
import { fork } from 'node:child_process';
import type { JsonProblem } from '../../core/eval/jsonLocation';
import type { EvalResults } from '../../core/eval/results';
import { SpecError } from '../../core/eval/spec';
import type { Thresholds } from '../../core/eval/verdict';
import type { EvalProgress } from './evaluate';

/** What the parent sends the child. */
export interface EvalChildRequest {
  specPath: string;
  thresholds?: Partial<Thresholds>;
  threads?: number;
  version?: string;
  /** Tests only: the child aborts at once, as a native crash would. */
  crashForTest?: boolean;
}

/** What the child posts back. */
export type EvalChildReply =
  | { type: 'progress'; progress: EvalProgress }
  | { type: 'result'; results: EvalResults }
  | { type: 'error'; error: { name: string; message: string; file?: string; problems?: JsonProblem[] } };

/** The inference process ended without an answer (a crash, a kill, out of memory). */
export class EvalProcessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalProcessError';
  }
}

/** Options of a child run. */
export interface ChildRunOptions extends Omit<EvalChildRequest, 'specPath'> {
  signal?: AbortSignal;
  /** Node options of the child (tests from source pass ['--import', 'tsx']). */
  execArgv?: string[];
  onProgress?: (p: EvalProgress) => void;
}

/** Runs `specPath` in a fresh child process; aborting kills the child. */
export function evaluateInChild(entry: string, specPath: string, options: ChildRunOptions = {}): Promise<EvalResults> {
  const { signal, onProgress, execArgv, ...request } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const child = fork(entry, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: execArgv ?? [],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      finish(() => reject(signal?.reason));
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('message', (reply: EvalChildReply) => {
      if (reply.type === 'progress') onProgress?.(reply.progress);
      else if (reply.type === 'result') finish(() => resolve(reply.results));
      else {
        const e = reply.error;
        finish(() =>
          reject(
            e.name === 'SpecError' && e.file && e.problems
              ? new SpecError(e.file, e.problems)
              : Object.assign(new Error(e.message), { name: e.name }),
          ),
        );
      }
    });
    child.on('error', (error) => finish(() => reject(error)));
    child.on('exit', (code, sig) =>
      finish(() =>
        reject(
          new EvalProcessError(
            `The inference process stopped unexpectedly (${sig ? `signal ${sig}` : `exit code ${code}`}) before finishing the evaluation.${stderr.trim() ? ` Its last output: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
          ),
        ),
      ),
    );
    child.send({ specPath, ...request } satisfies EvalChildRequest);
  });
}
