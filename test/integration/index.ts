/** Mocha entry run inside the VS Code extension host (extensionTestsPath); ends with `N passed, N failed`. */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/** Runs every *.vscode.test.js next to this file. */
export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const grep = process.env.QUANTLENS_TEST_GREP;
  if (grep) {
    mocha.grep(grep);
  }
  for (const file of readdirSync(__dirname)
    .filter((f) => f.endsWith('.vscode.test.js'))
    .sort()) {
    mocha.addFile(path.join(__dirname, file));
  }
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const passed = runner.stats?.passes ?? 0;
      console.log(`${passed} passed, ${failures} failed`);
      if (failures > 0) {
        reject(new Error(`${failures} integration test(s) failed`));
      } else if (passed === 0) {
        reject(new Error('no integration test ran'));
      } else {
        resolve();
      }
    });
  });
}
