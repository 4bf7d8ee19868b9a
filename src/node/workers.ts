/** Starting worker threads from the bundle (dist/*.js) or, under tsx (tests, bench), from TypeScript source. */
import * as path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Path of a worker entry (`analysisWorker`, `overviewWorker`) next to the running code. */
export function workerScript(name: string): string {
  return __filename.endsWith('.ts') ? path.join(__dirname, `${name}.ts`) : path.join(__dirname, `${name}.js`);
}

/** Starts a worker; a TypeScript entry gets tsx's loader registered in the worker first. */
export function startWorker(script: string, options: WorkerOptions = {}): Worker {
  if (script.endsWith('.ts')) {
    return new Worker(`require('tsx/cjs'); require(${JSON.stringify(script)});`, { ...options, eval: true });
  }
  return new Worker(script, options);
}
