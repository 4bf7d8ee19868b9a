/**
 * Entry of the evaluation child process (dist/evalProcess.js): onnxruntime runs here, so a crash in it
 * ends this process, never the extension host. Receives one run request, posts progress and the results.
 */
import { SpecError } from '../../core/eval/spec';
import type { EvalChildReply, EvalChildRequest } from './evalClient';
import { evaluate } from './evaluate';

const send = (reply: EvalChildReply): void => {
  process.send?.(reply);
};

process.once('message', (request: EvalChildRequest) => {
  if (request.crashForTest) process.abort(); // tests: an inference process dying mid-run must not hurt the host
  let last = 0;
  evaluate(request.specPath, {
    thresholds: request.thresholds,
    threads: request.threads,
    version: request.version,
    onProgress: (p) => {
      const now = Date.now();
      if (now - last >= 100 || p.done === p.total) {
        last = now;
        send({ type: 'progress', progress: p });
      }
    },
  })
    .then(
      (results) => send({ type: 'result', results }),
      (error: unknown) =>
        send({
          type: 'error',
          error:
            error instanceof SpecError
              ? { name: 'SpecError', message: error.message, file: error.file, problems: error.problems }
              : {
                  name: error instanceof Error ? error.name : 'Error',
                  message: error instanceof Error ? error.message : String(error),
                },
        }),
    )
    .finally(() => {
      // Let the last message flush, then leave (onnxruntime's threads must not keep the process alive).
      setTimeout(() => process.exit(0), 50);
    });
});
