/** Shared helpers for tests running inside the VS Code extension host. */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import type { QuantLensTestApi } from '../../src/extension/testApi';
import type { RenderReport } from '../../src/testHooks';
import type { Expectation } from '../fixtures/generate';

/** The extension's id (publisher.name). */
export const EXTENSION_ID = 'quantlens.quantlens';

/** Activates QuantLens and returns its API (a test build's, with the render reports). */
export async function api(): Promise<QuantLensTestApi> {
  const ext = vscode.extensions.getExtension<QuantLensTestApi>(EXTENSION_ID);
  if (!ext) {
    throw new Error(`${EXTENSION_ID} is not installed in this extension host`);
  }
  const ql = await ext.activate();
  if (typeof ql.waitForRender !== 'function') {
    throw new Error(
      'the integration tests need the test build of QuantLens (node scripts/build.mjs, not --production)',
    );
  }
  return ql;
}

/** The test workspace folder (a temporary copy of test/fixtures/models made by the runner). */
export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    throw new Error('the integration tests need a workspace folder');
  }
  return folder.uri.fsPath;
}

/** Every fixture expectation in the workspace. */
export function expectations(): Expectation[] {
  const dir = workspaceDir();
  return readdirSync(dir)
    .filter((f) => f.endsWith('.expected.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Expectation);
}

/** Opens a file in the QuantLens inspector and waits until it rendered something other than 'loading'. */
export async function openInInspector(
  uri: vscode.Uri,
  predicate: (r: RenderReport) => boolean = (r) => r.status !== 'loading',
): Promise<RenderReport> {
  const ql = await api();
  await vscode.commands.executeCommand('vscode.openWith', uri, 'quantlens.inspector');
  return ql.waitForRender(uri, predicate, 30_000);
}

/** Polls `fn` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = fn();
    if (value) {
      return value;
    }
    if (Date.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls async `fn` (one call at a time) until it returns a truthy value or the time runs out. */
export async function waitForAsync<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await fn();
    if (value) {
      return value;
    }
    if (Date.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The extension host's largest event-loop delay (ms) over `ms` while `threads` worker threads spin and QuantLens
 * does nothing: what this (shared) machine does to an idle event loop under a load like the analysis pool's.
 */
export async function baselineEventLoopDelay(ms: number, threads = availableParallelism()): Promise<number> {
  const spin = `const end = Date.now() + ${ms}; while (Date.now() < end);`;
  const workers = Array.from({ length: threads }, () => new Worker(spin, { eval: true }));
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  await new Promise((r) => setTimeout(r, ms));
  histogram.disable();
  await Promise.all(workers.map((w) => w.terminate()));
  return histogram.max / 1e6;
}

/**
 * Runs `run`, recording the extension host's largest event-loop delay meanwhile, and the baseline: the largest
 * delay of an idle loop under a similar load (baselineEventLoopDelay), just before and just after.
 */
export async function measureStall<T>(
  run: () => Promise<T>,
): Promise<{ value: T; ms: number; maxDelayMs: number; baselineMs: number }> {
  const before = await baselineEventLoopDelay(1000);
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const started = performance.now();
  const value = await run();
  const ms = performance.now() - started;
  histogram.disable();
  const after = await baselineEventLoopDelay(Math.min(5000, Math.max(1000, ms)));
  return { value, ms, maxDelayMs: histogram.max / 1e6, baselineMs: Math.max(before, after) };
}

/** QuantLens diagnostics on a file. */
export function quantlensDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'QuantLens');
}

/** Parses the leading integer of a rendered value such as `3,496 bytes`. */
export function leadingInt(text: string | undefined): number {
  const match = /^-?[\d,]+/.exec(text ?? '');
  if (!match) {
    throw new Error(`not a number: ${JSON.stringify(text)}`);
  }
  return Number(match[0].replace(/,/g, ''));
}

/** Closes every editor and waits until no tab is left (the command resolves before tabs are gone). */
export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await waitFor('all editors to close', () => vscode.window.tabGroups.all.every((g) => g.tabs.length === 0), 10_000);
}
