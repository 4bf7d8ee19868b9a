/**
 * The cost measurement: fp32 and every model variant, each in a fresh child process of its own
 * (costProcess.ts), run alternately A B A B for a number of rounds so that ratios to fp32 hold on a noisy
 * machine; the rounds give each ratio its spread.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { costRatios, modelCost, worseThanFp32 } from '../../core/cost/costStats';
import type { CostSample, ModelCost } from '../../core/cost/costTypes';
import { describeExit } from '../../core/rpc/client';
import { errorFromInfo } from '../../core/rpc/domainErrors';
import { RpcCode, RpcError } from '../../core/rpc/errors';
import { childClient } from '../rpcPorts';
import type { CostMethods, CostRequest } from './costProtocol';

/** One model to measure. */
export interface CostTarget {
  id: string;
  /** Absolute path. */
  model: string;
  sessionOptions: Record<string, string>;
}

/** How much to measure. */
export interface CostSettings {
  batchSizes: number[];
  runs: number;
  seconds: number;
  rounds: number;
  warmup?: number;
  threads?: number;
}

/** Options of a measurement. */
export interface CostOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, message: string) => void;
  /** Inputs per batch size (real samples); absent: random inputs, symbolic dims from `dims` (default 1). */
  feeds?: CostRequest['feeds'];
  dims?: Record<string, number>;
}

/** The measuring process ended without an answer. */
export class CostProcessError extends RpcError {
  constructor(message: string) {
    super({ code: RpcCode.peerExited, message, name: 'CostProcessError' });
  }
}

/** The child's entry: dist/costProcess.js beside the bundle, else this folder's source run through tsx. */
function costEntry(): { entry: string; execArgv: string[] } {
  const bundled = path.join(__dirname, 'costProcess.js');
  if (existsSync(bundled)) return { entry: bundled, execArgv: [] };
  return { entry: path.join(__dirname, 'costProcess.ts'), execArgv: ['--import', 'tsx'] };
}

/** Measures one model in a fresh child process. */
export async function measureInChild(request: CostRequest, signal?: AbortSignal): Promise<CostSample> {
  signal?.throwIfAborted();
  const { entry, execArgv } = costEntry();
  const child = fork(entry, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const client = childClient<CostMethods>(child, {
    name: 'The measuring process',
    fromInfo: errorFromInfo,
    exitError: (code, sig) =>
      new CostProcessError(
        `The measuring process for ${path.basename(request.model)} stopped unexpectedly (${describeExit(code, sig)}).${stderr.trim() ? ` Its last output: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
      ),
  });
  try {
    return await client.request('measure', request, { signal });
  } finally {
    child.kill('SIGKILL');
  }
}

/** Measures every target, A B A B over the rounds; the first target is the reference (fp32) of the ratios. */
export async function measureCosts(
  targets: readonly CostTarget[],
  settings: CostSettings,
  options: CostOptions = {},
): Promise<Map<string, ModelCost>> {
  const samples = new Map<string, CostSample[]>(targets.map((t) => [t.id, []]));
  const total = targets.length * settings.rounds;
  let done = 0;
  for (let round = 0; round < settings.rounds; round++) {
    for (const target of targets) {
      options.onProgress?.(done, total, `Measuring ${target.id} (round ${round + 1} of ${settings.rounds})`);
      const sessionOptions = {
        ...target.sessionOptions,
        ...(settings.threads ? { intraOpNumThreads: String(settings.threads) } : {}),
      };
      const request: CostRequest = {
        model: target.model,
        batchSizes: settings.batchSizes,
        runs: settings.runs,
        seconds: settings.seconds,
        warmup: settings.warmup ?? 3,
        sessionOptions,
        feeds: options.feeds,
        dims: options.dims,
      };
      samples.get(target.id)!.push(await measureInChild(request, options.signal));
      done++;
    }
  }
  options.onProgress?.(done, total, 'Measured');
  return costsOf(targets, samples, settings);
}

function costsOf(
  targets: readonly CostTarget[],
  samples: ReadonlyMap<string, CostSample[]>,
  settings: CostSettings,
): Map<string, ModelCost> {
  const costs = new Map<string, ModelCost>();
  const [reference] = targets;
  for (const t of targets) {
    const threads = settings.threads ?? Number(t.sessionOptions.intraOpNumThreads ?? 0);
    const sessionOptions = {
      ...t.sessionOptions,
      ...(settings.threads ? { intraOpNumThreads: String(settings.threads) } : {}),
    };
    costs.set(t.id, modelCost(samples.get(t.id)!, { threads, provider: 'cpu', sessionOptions }));
  }
  const ref = costs.get(reference.id)!;
  for (const t of targets.slice(1)) {
    const cost = costs.get(t.id)!;
    cost.ratioToFp32 = costRatios(cost, samples.get(t.id)!, ref, samples.get(reference.id)!);
    cost.worse = worseThanFp32(cost.ratioToFp32);
  }
  return costs;
}
