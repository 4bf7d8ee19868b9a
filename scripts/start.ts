/**
 * `npm start`: builds QuantLens and serves VS Code (from the code-server package) on 127.0.0.1 with the
 * extension in development mode on the demo workspace. Prints the URL; `--open` opens it in Chromium.
 * On the demo workspace it first makes the demo's exported models and their evaluation when missing
 * (scripts/demoExports.ts; --no-demo-exports skips it).
 * Options: --port N, --folder PATH (another workspace), --open, --no-demo-exports. Ctrl+C stops everything it started.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { prepareDemoExports } from './demoExports';
import {
  ensureTestEnv,
  fixWebviewServiceWorkers,
  launchChromium,
  ROOT,
  startServer,
  workbenchUrl,
} from './vscodeServer';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const folder = path.resolve(opt('--folder') ?? path.join(ROOT, 'demo'));
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) {
    throw new Error('build failed');
  }
  const demo = path.join(ROOT, 'demo');
  if (folder === demo && !args.includes('--no-demo-exports')) prepareDemoExports(ROOT, demo);
  const codeServer = ensureTestEnv();
  const port = opt('--port') ? Number(opt('--port')) : undefined;
  const server = await startServer({ codeServer, port });
  const url = workbenchUrl(server.port, { folder, extensionDevelopmentPath: ROOT });
  let browser: Browser | undefined;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) {
      return;
    }
    stopping = true;
    console.log('\nStopping…');
    await browser?.close().catch(() => undefined);
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  server.process.once('exit', (code) => {
    if (!stopping) {
      console.error(`VS Code server exited (${code}).\n${server.output().slice(-2000)}`);
      void stop();
    }
  });
  console.log(`\nQuantLens (development build) in VS Code on ${folder}:\n\n  ${url}\n`);
  console.log(
    'Open it in a browser on this machine (over SSH: forward the port, e.g. ssh -L ' +
      `${server.port}:127.0.0.1:${server.port}). Press Ctrl+C to stop.`,
  );
  if (args.includes('--open')) {
    if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
      console.error('--open needs a display (DISPLAY is not set); open the URL above in your browser instead.');
    } else {
      browser = await launchChromium(false);
      const page = await (await browser.newContext({ viewport: null })).newPage();
      await fixWebviewServiceWorkers(page);
      await page.goto(url);
      browser.on('disconnected', () => void stop());
    }
  }
}

main().catch((error: unknown) => {
  console.error(`npm start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
