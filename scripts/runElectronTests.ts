/**
 * `npm run test:electron`: the same mocha integration suite under desktop VS Code via @vscode/test-electron,
 * for machines that can download VS Code (not part of `npm test`; this project's CI machines cannot).
 * Set QUANTLENS_VSCODE_VERSION to pick the version (default: the oldest supported, 1.100.3).
 */
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { fixtureWorkspace } from './runVscodeTests';
import { ROOT } from './vscodeServer';

async function main(): Promise<void> {
  const workspace = fixtureWorkspace();
  try {
    await runTests({
      version: process.env.QUANTLENS_VSCODE_VERSION ?? '1.100.3',
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: path.join(ROOT, 'dist', 'test', 'integration', 'index.js'),
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    });
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`test:electron failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
