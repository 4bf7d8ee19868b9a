/**
 * `npm test`: everything, in order. Build, type-check, lint, format, code size (scripts/codeSize.ts), unit
 * tests (plain Node), the integration suite inside a real VS Code extension host, UI tests on the workbench
 * page, then the packaged VSIX installed into VS Code and used. Installs what the VS Code tests need on demand (scripts/setupTestEnv.sh).
 * The last line is `N passed, N failed`; the exit code is non-zero on any failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { packageVsix } from './package';
import { runIntegrationSuite } from './runVscodeTests';
import { runUiTests } from './uiTests';
import { ensureTestEnv, ROOT } from './vscodeServer';

interface Row {
  stage: string;
  passed: number;
  failed: number;
  seconds: number;
}

const rows: Row[] = [];
const MAX_VSIX_BYTES = 30 * 1024 * 1024;

async function stage(
  name: string,
  fn: () => Promise<{ passed: number; failed: number }> | { passed: number; failed: number },
): Promise<void> {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  let result: { passed: number; failed: number };
  try {
    result = await fn();
  } catch (error) {
    console.error(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    result = { passed: 0, failed: 1 };
  }
  rows.push({ stage: name, ...result, seconds: (Date.now() - started) / 1000 });
}

/** Runs a command as one check: 1 passed or 1 failed. */
function check(command: string, args: string[]): { passed: number; failed: number } {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  return result.status === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
}

function unitTests(): { passed: number; failed: number } {
  const tap = path.join(mkdtempSync(path.join(tmpdir(), 'quantlens-unit-')), 'unit.tap');
  const files = readdirSync(path.join(ROOT, 'test', 'unit'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/unit/${f}`);
  spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      // Two test files at a time (node's default is cores - 1, i.e. one here): most files wait on onnxruntime,
      // children or I/O, so two overlap well on 2 cores (measured: 114 s -> 89 s).
      '--test-concurrency=2',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...files,
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  const text = readFileSync(tap, 'utf8');
  const count = (key: string): number => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  rmSync(path.dirname(tap), { recursive: true, force: true });
  const passed = count('pass');
  const failed = count('fail') + count('cancelled');
  return { passed, failed: passed === 0 ? Math.max(failed, 1) : failed };
}

async function main(): Promise<void> {
  const started = Date.now();
  await stage('build', () => check(process.execPath, ['scripts/build.mjs']));
  await stage('typecheck', () =>
    check(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']),
  );
  await stage('typecheck (webview)', () =>
    check(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'webview/tsconfig.json', '--noEmit']),
  );
  await stage('lint', () => check(process.execPath, ['node_modules/eslint/bin/eslint.js', '.']));
  await stage('format', () => check(process.execPath, ['node_modules/prettier/bin/prettier.cjs', '--check', '.']));
  await stage('code size', () => check(process.execPath, ['--import', 'tsx', 'scripts/codeSize.ts']));
  let codeServer = '';
  await stage('test environment', () => {
    codeServer = ensureTestEnv();
    return { passed: 1, failed: 0 };
  });
  await stage('unit tests', unitTests);
  if (codeServer) {
    await stage('integration tests in VS Code', () => runIntegrationSuite(codeServer));
    await stage('UI tests in VS Code', () => runUiTests(codeServer, { dev: true }));
    const outDir = mkdtempSync(path.join(tmpdir(), 'quantlens-vsix-'));
    let vsix = '';
    await stage('package VSIX', () => {
      vsix = packageVsix(undefined, path.join(outDir, 'quantlens-test.vsix'));
      const size = statSync(vsix).size;
      const ok = size <= MAX_VSIX_BYTES;
      console.log(
        `VSIX size ${(size / 2 ** 20).toFixed(1)} MiB (limit ${MAX_VSIX_BYTES / 2 ** 20} MiB): ${ok ? 'ok' : 'TOO LARGE'}`,
      );
      return ok ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
    });
    if (vsix) {
      await stage('VSIX installed in VS Code', () => runUiTests(codeServer, { dev: false, vsix }));
    }
    rmSync(outDir, { recursive: true, force: true });
    // Packaging leaves a production build; restore the development build (source maps, test bundles).
    check(process.execPath, ['scripts/build.mjs']);
  }
  console.log('\n=== summary ===');
  for (const r of rows) {
    console.log(
      `${r.failed ? '✘' : '✔'} ${r.stage.padEnd(30)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed ${r.seconds.toFixed(1).padStart(7)} s`,
    );
  }
  const passed = rows.reduce((s, r) => s + r.passed, 0);
  const failed = rows.reduce((s, r) => s + r.failed, 0);
  console.log(`total time ${((Date.now() - started) / 1000).toFixed(0)} s; screenshots in test-artifacts/`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

// Ctrl+C: exit through process 'exit' so started VS Code servers are killed.
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
void main();
