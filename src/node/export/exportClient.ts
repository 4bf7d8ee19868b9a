/** Runs an export or its verification in a child process (dist/exportProcess.js), relaying progress and errors. */
import { fork } from 'node:child_process';
import { ExportError } from '../../core/export/exportPlan';
import { describeExit } from '../../core/rpc/client';
import { errorFromInfo } from '../../core/rpc/domainErrors';
import { RpcCode, RpcError, type RpcErrorInfo } from '../../core/rpc/errors';
import { childClient } from '../rpcPorts';
import { WriteRefused } from '../safeWrite';
import type { ExportMethods, ExportProgress } from './exportProtocol';

/** Options of a child run. */
export interface ExportChildOptions {
  signal?: AbortSignal;
  onProgress?: (p: ExportProgress) => void;
  /** Node options of the child (tests from source pass ['--import', 'tsx']). */
  execArgv?: string[];
}

/** The errors the export raises, rebuilt by name (ExportError and WriteRefused are bad input, exit 2). */
function fromInfo(info: RpcErrorInfo): Error {
  if (info.name === 'ExportError') return new ExportError(info.message);
  if (info.name === 'WriteRefused') {
    return new WriteRefused(
      info.message,
      !!(info.data as { needsConfirmation?: boolean } | undefined)?.needsConfirmation,
    );
  }
  return errorFromInfo(info);
}

/** Runs `method` in a fresh child process; aborting kills the child (its temporary file goes with the cancel). */
export async function runExportChild<M extends keyof ExportMethods>(
  entry: string,
  method: M,
  params: ExportMethods[M]['params'],
  options: ExportChildOptions = {},
): Promise<ExportMethods[M]['result']> {
  options.signal?.throwIfAborted();
  const child = fork(entry, [], {
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    execArgv: options.execArgv ?? [],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const client = childClient<ExportMethods>(child, {
    name: 'The export process',
    fromInfo,
    exitError: (code, sig) => {
      const last = stderr.trim() ? ` Its last output: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : '';
      return new RpcError({
        code: RpcCode.peerExited,
        name: 'ExportProcessError',
        message: `The export process stopped unexpectedly (${describeExit(code, sig)}) during the ${method === 'verify' ? 'verification' : 'export'}; onnxruntime may have crashed on the model.${last}`,
      });
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    return await client.request(method, params, { signal: options.signal, onProgress: options.onProgress });
  } finally {
    // Cancelled: the child got the cancel and removes its temporary file before it leaves; give it that time.
    if (options.signal?.aborted) await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    child.kill('SIGKILL');
  }
}
