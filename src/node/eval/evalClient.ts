/** Runs an evaluation in a child process (dist/evalProcess.js) and relays its progress, results or errors. */
import { fork } from 'node:child_process';
import type { EvalResults } from '../../core/eval/results';
import type { FindPlanReport } from '../../core/search/planReport';
import { describeExit } from '../../core/rpc/client';
import { errorFromInfo } from '../../core/rpc/domainErrors';
import { RpcCode, RpcError } from '../../core/rpc/errors';
import { childClient } from '../rpcPorts';
import type { EvalProgress } from './evaluate';
import { STOP_SEARCH, type EvalChildRequest, type EvalMethods } from './evalProtocol';

/** The inference process ended without an answer (a crash, a kill, out of memory): code `peer-exited`. */
export class EvalProcessError extends RpcError {
  constructor(message: string) {
    super({ code: RpcCode.peerExited, message, name: 'EvalProcessError' });
  }
}

/** Options of a child run. */
export interface ChildRunOptions extends Omit<EvalChildRequest, 'specPath'> {
  signal?: AbortSignal;
  /** Node options of the child (tests from source pass ['--import', 'tsx']). */
  execArgv?: string[];
  onProgress?: (p: EvalProgress) => void;
  /** Called with the child's process id once it is started (for logs, or to stop it from outside). */
  onSpawn?: (pid: number) => void;
}

/** Runs `specPath` in a fresh child process; aborting kills the child. */
export async function evaluateInChild(
  entry: string,
  specPath: string,
  options: ChildRunOptions = {},
): Promise<EvalResults> {
  const { signal, onProgress, onSpawn, execArgv, ...request } = options;
  return requestInChild(entry, 'evaluate', { specPath, ...request }, { signal, onProgress, onSpawn, execArgv });
}

/**
 * Finds the plan a spec asks for in a fresh child process (`quantlens plan`). Aborting `stop` asks the child to stop
 * searching and answer with what it found so far (a report marked `cancelled`); aborting `signal` kills it.
 */
export async function findPlanInChild(
  entry: string,
  specPath: string,
  options: Pick<ChildRunOptions, 'signal' | 'onSpawn' | 'execArgv' | 'threads'> & {
    onProgress?: (p: EvalMethods['findPlan']['progress']) => void;
    stop?: AbortSignal;
  } = {},
): Promise<FindPlanReport> {
  const { threads, ...rest } = options;
  return requestInChild(entry, 'findPlan', { specPath, threads }, rest);
}

/** One request to a fresh child process, which is killed when it is answered, fails or is cancelled. */
async function requestInChild<M extends keyof EvalMethods>(
  entry: string,
  method: M,
  params: EvalMethods[M]['params'],
  options: {
    signal?: AbortSignal;
    execArgv?: string[];
    onSpawn?: (pid: number) => void;
    onProgress?: (p: EvalMethods[M]['progress']) => void;
    /** Sends the child STOP_SEARCH when aborted (it answers with what it has). */
    stop?: AbortSignal;
  },
): Promise<EvalMethods[M]['result']> {
  const { signal, onProgress, onSpawn, execArgv, stop } = options;
  signal?.throwIfAborted();
  const child = fork(entry, [], {
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    execArgv: execArgv ?? [],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const client = childClient<EvalMethods>(child, {
    name: 'The inference process',
    fromInfo: errorFromInfo,
    exitError: (code, sig) => {
      const last = stderr.trim() ? ` Its last output: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : '';
      return new EvalProcessError(
        `The inference process stopped unexpectedly (${describeExit(code, sig)}) before finishing the ${method === 'evaluate' ? 'evaluation' : 'plan search'}.${last}`,
      );
    },
  });
  if (child.pid !== undefined) onSpawn?.(child.pid);
  const sendStop = (): void => {
    if (child.connected) child.send(STOP_SEARCH, () => undefined);
  };
  if (stop?.aborted) sendStop();
  stop?.addEventListener('abort', sendStop, { once: true });
  try {
    return await client.request(method, params, { signal, onProgress });
  } finally {
    // Done, failed or cancelled: onnxruntime may still be running in the child; it has nothing more to say.
    stop?.removeEventListener('abort', sendStop);
    child.kill('SIGKILL');
  }
}
