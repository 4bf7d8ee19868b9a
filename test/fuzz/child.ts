/**
 * Fuzz child: reads each mutant the way the inspector does (load, plan, analyse every weight) and reports the
 * outcome over IPC. Every file it opens is recorded, so reads outside the mutant's folder are caught.
 */
import fs from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../../src/core/onnx/errors';
import { planAnalysis, taskFor } from '../../src/node/analysisPlan';
import { runAnalysisTask } from '../../src/node/analysisTask';
import { loadModelFile } from '../../src/node/modelFile';

/** The outcome of one mutant: ok (exit 0), bad input (exit 2, a ModelError), or a crash (exit 4). */
export interface ChildReply {
  id: number;
  outcome: 'ok' | 'bad-input' | 'crash';
  message?: string;
  outside: string[];
}

const opened: string[] = [];
const record = (file: unknown): void => {
  if (typeof file === 'string') opened.push(path.resolve(file));
};
const promisesOpen = fs.promises.open.bind(fs.promises);
fs.promises.open = ((file: fs.PathLike, ...rest: unknown[]) => {
  record(file);
  return (promisesOpen as (...a: unknown[]) => unknown)(file, ...rest);
}) as typeof fs.promises.open;
const openSync = fs.openSync.bind(fs);
fs.openSync = (file: fs.PathLike, ...rest: unknown[]) => {
  record(file);
  return (openSync as (...a: unknown[]) => number)(file, ...rest);
};

const promisesReadFile = fs.promises.readFile.bind(fs.promises);
fs.promises.readFile = ((file: fs.PathLike, ...rest: unknown[]) => {
  record(file);
  return (promisesReadFile as (...a: unknown[]) => unknown)(file, ...rest);
}) as typeof fs.promises.readFile;

async function read(file: string): Promise<void> {
  const loaded = await loadModelFile(file);
  const planned = await planAnalysis({ path: file, ...loaded }, loaded.weights);
  for (const w of planned) {
    const task = taskFor(file, w, w.quantizable ? ['int8-channel', 'int4-block32'] : [], 16);
    if (!task) continue;
    try {
      runAnalysisTask({ ...task, grids: false });
    } catch (error) {
      // A tensor that cannot be read is reported on that tensor (a ModelError); anything else is a crash.
      if (!(error instanceof ModelError)) throw error;
    }
  }
}

process.on('message', (message: { id: number; file: string }) => {
  opened.length = 0;
  const folder = fs.realpathSync(path.dirname(message.file));
  const reply = (outcome: ChildReply['outcome'], text?: string): void => {
    const outside = opened.filter((f) => {
      let real = f;
      try {
        real = fs.realpathSync(f);
      } catch {
        // a path that does not exist was not read
        return false;
      }
      return path.relative(folder, real).startsWith('..') || path.isAbsolute(path.relative(folder, real));
    });
    process.send!({ id: message.id, outcome, message: text, outside } satisfies ChildReply);
  };
  read(message.file).then(
    () => reply('ok'),
    (error: unknown) =>
      error instanceof ModelError
        ? reply('bad-input', error.message)
        : reply('crash', error instanceof Error ? (error.stack ?? error.message) : String(error)),
  );
});
process.send!({ ready: true, pid: process.pid });
