/**
 * Fuzz driver: writes seeded mutants of the fixtures (and of the ONNX test corpus when installed) into their own
 * folders and reads each in a child process under a time and memory bound. A child that does not answer in time
 * is a hang, one whose RSS passes the bound a memory blow-up; both are killed and the run goes on.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ChildReply } from './child';
import { mutate } from './mutate';

/** Options of a fuzz run. */
export interface FuzzOptions {
  count: number;
  seed: number;
  /** Per mutant, ms (default 5000). */
  timeoutMs?: number;
  /** Resident memory bound of the child, MB (default 1024). */
  rssLimitMb?: number;
  /** Also mutate models of this corpus folder (e.g. /usr/share/libonnx-testdata/data). */
  corpus?: string;
  onProgress?: (done: number) => void;
  /** Run the reader under `strace -f -e trace=openat` and check every file it opened (the long run). */
  strace?: boolean;
}

/** What a fuzz run found; everything but `ok` and `badInput` must be zero. */
export interface FuzzReport {
  mutants: number;
  ok: number;
  badInput: number;
  crashes: { how: string; message: string }[];
  hangs: string[];
  memoryBlowUps: string[];
  outsideReads: { how: string; files: string[] }[];
  worstMs: number;
  peakRssMb: number;
  ms: number;
}

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'models');
const CHILD = path.join(__dirname, 'child.ts');

/** Opened paths under the fuzz root that are outside the mutant's folder (relative ones resolved from it). */
function outsideOf(opened: string[], root: string, folder: string): string[] {
  return opened
    .map((f) => path.resolve(folder, f))
    .filter((f) => f.startsWith(root + path.sep) && f !== folder && !f.startsWith(folder + path.sep));
}

/** The models mutants are made from: every fixture, plus up to `limit` corpus models. */
function sources(corpus: string | undefined, limit = 300): string[] {
  const files = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.onnx'))
    .map((f) => path.join(FIXTURES, f));
  if (corpus && existsSync(corpus)) {
    const found = readdirSync(corpus)
      .map((d) => path.join(corpus, d, 'model.onnx'))
      .filter((f) => existsSync(f));
    files.push(...found.filter((_, i) => i % Math.max(1, Math.floor(found.length / limit)) === 0).slice(0, limit));
  }
  return files;
}

function rssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** A child process reading mutants, restarted after a hang or a blow-up. */
class Reader {
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private traceRead = 0;
  private pid?: number;

  /** `traceLog`: where strace writes the reader's openat calls (no strace when undefined). */
  constructor(private readonly traceLog?: string) {}

  private start(): Promise<void> {
    const args = ['--import', 'tsx', '--max-old-space-size=768'];
    const stdio: ('ignore' | 'ipc')[] = ['ignore', 'ignore', 'ignore', 'ipc'];
    const child = this.traceLog
      ? spawn('strace', ['-f', '-qq', '-e', 'trace=openat', '-o', this.traceLog, process.execPath, ...args, CHILD], {
          stdio,
        })
      : fork(CHILD, [], { execArgv: args, stdio });
    this.traceRead = 0;
    this.child = child;
    this.ready = new Promise((resolve, reject) => {
      // The reader's own pid (under strace, child.pid is strace's): its RSS is what is bounded.
      child.once('message', (m: { pid?: number }) => {
        this.pid = m.pid ?? child.pid;
        resolve();
      });
      child.once('exit', (code) => reject(new Error(`the fuzz reader process exited at start (code ${code})`)));
    });
    return this.ready;
  }

  /** Reads one file; 'hang' or 'memory' when the bound was passed (the child is then killed). */
  async read(
    id: number,
    file: string,
    timeoutMs: number,
    rssLimitMb: number,
  ): Promise<ChildReply | 'hang' | 'memory' | 'died'> {
    if (!this.child) await this.start();
    await this.ready;
    const child = this.child!;
    let peak = 0;
    const result = await new Promise<ChildReply | 'hang' | 'memory' | 'died'>((resolve) => {
      const onMessage = (m: ChildReply): void => {
        if (m.id === id) finish(m);
      };
      const onExit = (): void => finish('died');
      const poll = setInterval(() => {
        peak = Math.max(peak, rssMb(this.pid ?? child.pid));
        if (peak > rssLimitMb) finish('memory');
      }, 20);
      const timer = setTimeout(() => finish('hang'), timeoutMs);
      const finish = (r: ChildReply | 'hang' | 'memory' | 'died'): void => {
        clearInterval(poll);
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(r);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ id, file });
    });
    this.peakRssMb = Math.max(this.peakRssMb, peak);
    if (typeof result === 'string') this.stop();
    return result;
  }

  peakRssMb = 0;

  /** Paths the reader opened (strace's openat lines) since the last call. */
  tracedOpens(): string[] {
    if (!this.traceLog || !existsSync(this.traceLog)) return [];
    const text = readFileSync(this.traceLog, 'utf8');
    const fresh = text.slice(this.traceRead, text.lastIndexOf('\n') + 1);
    this.traceRead += fresh.length;
    return [...fresh.matchAll(/openat\([^,]*, "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }
}

/** Runs `count` mutants from `seed`. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const files = sources(options.corpus);
  const root = mkdtempSync(path.join(tmpdir(), 'quantlens-fuzz-'));
  // A file next to every mutant folder: reading it would be a read outside the model's folder.
  writeFileSync(path.join(root, 'outside.bin'), new Uint8Array(4096).fill(7));
  const report: FuzzReport = {
    mutants: 0,
    ok: 0,
    badInput: 0,
    crashes: [],
    hangs: [],
    memoryBlowUps: [],
    outsideReads: [],
    worstMs: 0,
    peakRssMb: 0,
    ms: 0,
  };
  const reader = new Reader(options.strace ? path.join(root, 'openat.log') : undefined);
  try {
    for (let i = 0; i < options.count; i++) {
      const seed = options.seed + i;
      const source = files[seed % files.length];
      const mutant = mutate(readFileSync(source), seed);
      const how = `seed ${seed}, ${path.basename(path.dirname(source))}/${path.basename(source)}: ${mutant.how}`;
      const folder = path.join(root, `m${i % 8}`);
      rmSync(folder, { recursive: true, force: true });
      mkdirSync(folder);
      for (const data of ['external_data.bin', 'data.bin']) {
        if (existsSync(path.join(path.dirname(source), data)))
          copyFileSync(path.join(path.dirname(source), data), path.join(folder, data));
      }
      const file = path.join(folder, 'model.onnx');
      writeFileSync(file, mutant.bytes);
      const started = performance.now();
      // strace slows the reader down: a longer time bound under it.
      const timeoutMs = (options.timeoutMs ?? 5000) * (options.strace ? 4 : 1);
      const r = await reader.read(i, file, timeoutMs, options.rssLimitMb ?? 1024);
      const traced = outsideOf(reader.tracedOpens(), root, folder);
      if (traced.length) report.outsideReads.push({ how: `${how} (strace)`, files: traced });
      report.worstMs = Math.max(report.worstMs, performance.now() - started);
      report.mutants += 1;
      if (r === 'hang') report.hangs.push(how);
      else if (r === 'memory') report.memoryBlowUps.push(how);
      else if (r === 'died') report.crashes.push({ how, message: 'the reader process died' });
      else {
        if (r.outcome === 'ok') report.ok += 1;
        else if (r.outcome === 'bad-input') report.badInput += 1;
        else report.crashes.push({ how, message: r.message ?? '' });
        if (r.outside.length) report.outsideReads.push({ how, files: r.outside });
      }
      options.onProgress?.(i + 1);
    }
  } finally {
    reader.stop();
    rmSync(root, { recursive: true, force: true });
  }
  report.peakRssMb = Math.round(reader.peakRssMb);
  report.ms = Math.round(performance.now() - t0);
  report.worstMs = Math.round(report.worstMs);
  return report;
}
