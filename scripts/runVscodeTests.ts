/**
 * Runs the mocha integration suite inside a real VS Code extension host (VS Code server from the
 * code-server package, driven by Debian Chromium), then the UI tests that drive the workbench page.
 * Usage: tsx scripts/runVscodeTests.ts [--suite-only | --ui-only] [--vsix path] [--verbose]
 * Prints `N passed, N failed` last; exit code = number of failures (capped at 1).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { format } from 'node:util';
import { runUiTests } from './uiTests';
import {
  ensureTestEnv,
  exposeAutomation,
  fixWebviewServiceWorkers,
  launchChromium,
  ROOT,
  startServer,
  workbenchUrl,
} from './vscodeServer';

/** Counts of one test stage. */
export interface StageResult {
  passed: number;
  failed: number;
}

const SUITE_TIMEOUT_MS = 10 * 60_000;

/** Copies the fixtures into a fresh folder so tests never touch the repository's files. */
export function fixtureWorkspace(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-ws-'));
  cpSync(path.join(ROOT, 'test', 'fixtures', 'models'), dir, { recursive: true });
  // The demo's trained classifier and its evaluation spec (the evaluation tests run it).
  cpSync(path.join(ROOT, 'demo', 'mnist'), path.join(dir, 'mnist'), {
    recursive: true,
    // The shipped spec lists the exports npm start makes; the tests export and evaluate their own.
    filter: (f) =>
      !f.endsWith('.results.json') &&
      !f.endsWith('.qplan.json') &&
      !/shipped\.quantlens\.json$|mnist_mlp\.[^/]+\.onnx$/.test(f),
  });
  return dir;
}

/** Runs the mocha suite in the extension host; returns its counts as reported by the suite. */
export async function runIntegrationSuite(codeServer: string, verbose = false): Promise<StageResult> {
  const workspace = fixtureWorkspace();
  const server = await startServer({
    codeServer,
    verbose,
    env: {
      QUANTLENS_LOG_TO_CONSOLE: process.env.QUANTLENS_LOG_TO_CONSOLE ?? '0',
      QUANTLENS_TEST_GREP: process.env.QUANTLENS_TEST_GREP ?? '',
    },
  });
  const browser = await launchChromium();
  let summary: StageResult | undefined;
  try {
    const page = await browser.newPage();
    const { exited } = await exposeAutomation(page, (_type, args) => {
      const line = format(...args);
      process.stdout.write(`${line}\n`);
      const m = /^(\d+) passed, (\d+) failed$/m.exec(line.trim());
      if (m) {
        summary = { passed: Number(m[1]), failed: Number(m[2]) };
      }
    });
    await fixWebviewServiceWorkers(page);
    await page.goto(
      workbenchUrl(server.port, {
        folder: workspace,
        extensionDevelopmentPath: ROOT,
        extensionTestsPath: path.join(ROOT, 'dist', 'test', 'integration', 'index.js'),
      }),
    );
    const code = await Promise.race([
      exited,
      new Promise<number>((resolve) => setTimeout(() => resolve(-1), SUITE_TIMEOUT_MS).unref()),
    ]);
    if (code === -1) {
      console.error(`[vscode] the integration suite did not finish within ${SUITE_TIMEOUT_MS / 60000} min`);
    }
    if (!summary) {
      console.error(`[vscode] the suite reported no result (exit code ${code}). Server output:\n${server.output()}`);
      return { passed: 0, failed: 1 };
    }
    if (code !== 0 && summary.failed === 0) {
      return { passed: summary.passed, failed: 1 };
    }
    return summary;
  } finally {
    await browser.close();
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose');
  const vsixIndex = args.indexOf('--vsix');
  const codeServer = ensureTestEnv();
  const total: StageResult = { passed: 0, failed: 0 };
  const add = (r: StageResult): void => {
    total.passed += r.passed;
    total.failed += r.failed;
  };
  if (!args.includes('--ui-only')) {
    add(await runIntegrationSuite(codeServer, verbose));
  }
  if (!args.includes('--suite-only')) {
    add(await runUiTests(codeServer, { vsix: vsixIndex >= 0 ? args[vsixIndex + 1] : undefined, verbose }));
  }
  console.log(`${total.passed} passed, ${total.failed} failed`);
  process.exitCode = total.failed > 0 || total.passed === 0 ? 1 : 0;
}

if (require.main === module) {
  process.on('SIGINT', () => process.exit(130));
  process.on('SIGTERM', () => process.exit(143));
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
