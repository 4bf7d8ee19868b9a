/**
 * Runs VS Code's server (from the `code-server` npm package, installed by setupTestEnv.sh) on 127.0.0.1
 * and drives it with Debian's Chromium through playwright-core. Shared by the test runner and `npm start`.
 * See ../shared/notes/real-vscode-tests.md for why it is done this way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '..');
const CHROMIUM = process.env.QUANTLENS_CHROMIUM ?? '/usr/bin/chromium';

/** Installs (if needed) Debian packages and code-server; returns the code-server package folder. */
export function ensureTestEnv(): string {
  const result = spawnSync('bash', [path.join(ROOT, 'scripts', 'setupTestEnv.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`scripts/setupTestEnv.sh failed with exit code ${result.status}`);
  }
  return result.stdout.trim().split('\n').pop()!;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A running VS Code server. */
export interface VscodeServer {
  port: number;
  /** Private folders (home, user data, extensions) of this server, removed by `stop`. */
  sandbox: string;
  extensionsDir: string;
  process: ChildProcess;
  /** Everything the server printed. */
  output: () => string;
  stop(): Promise<void>;
}

/** Options for `startServer`. */
export interface ServerOptions {
  codeServer: string;
  /** Extra environment for the server (reaches the extension host). */
  env?: Record<string, string>;
  /** Reuse this extensions folder (e.g. one a VSIX was installed into). */
  extensionsDir?: string;
  /** Print server output as it comes. */
  verbose?: boolean;
  /** Port to listen on (default: a free one). */
  port?: number;
}

/** Runs server-main.js with the given arguments to completion (e.g. --install-extension). */
export function serverCli(codeServer: string, args: string[], sandbox: string): void {
  const result = spawnSync(
    process.execPath,
    [path.join(codeServer, 'lib', 'vscode', 'out', 'server-main.js'), ...args],
    {
      env: sandboxEnv(sandbox),
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) {
    throw new Error(`server-main.js ${args.join(' ')} failed (${result.status}): ${result.stdout}\n${result.stderr}`);
  }
}

function sandboxEnv(sandbox: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dirs = ['home', 'config', 'data', 'tmp'].map((d) => path.join(sandbox, d));
  dirs.forEach((d) => mkdirSync(d, { recursive: true }));
  return {
    ...process.env,
    HOME: dirs[0],
    XDG_CONFIG_HOME: dirs[1],
    XDG_DATA_HOME: dirs[2],
    TMPDIR: dirs[3],
    EXTENSIONS_GALLERY: '{"serviceUrl":""}',
    VSCODE_CLI: undefined,
    ...extra,
  };
}

/** Starts VS Code's server on a free loopback port and waits until it listens. */
export async function startServer(options: ServerOptions): Promise<VscodeServer> {
  const sandbox = mkdtempSync(path.join(tmpdir(), 'quantlens-vscode-'));
  const port = options.port ?? (await freePort());
  const extensionsDir = options.extensionsDir ?? path.join(sandbox, 'extensions');
  const args = [
    path.join(options.codeServer, 'lib', 'vscode', 'out', 'server-main.js'),
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    '--enable-smoke-test-driver',
    '--disable-telemetry',
    '--disable-workspace-trust',
    '--server-data-dir',
    path.join(sandbox, 'server-data'),
    '--user-data-dir',
    path.join(sandbox, 'user-data'),
    '--extensions-dir',
    extensionsDir,
  ];
  const child = spawn(process.execPath, args, {
    env: sandboxEnv(sandbox, options.env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The server runs in its own process group: take it down with us however we exit.
  const killGroup = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  process.once('exit', killGroup);
  let output = '';
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    if (options.verbose) {
      process.stderr.write(chunk);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* already gone */
          }
          resolve();
        }, 3000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    process.removeListener('exit', killGroup);
    rmSync(sandbox, { recursive: true, force: true, maxRetries: 3 });
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`VS Code server did not start within 60 s:\n${output}`)), 60_000);
    const check = (): void => {
      if (output.includes('Extension host agent listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`VS Code server exited with code ${code} before listening:\n${output}`));
    });
  });
  return { port, sandbox, extensionsDir, process: child, output: () => output, stop };
}

/** Options for `workbenchUrl`. */
export interface WorkbenchOptions {
  folder: string;
  extensionDevelopmentPath?: string;
  extensionTestsPath?: string;
}

/** The URL opening `folder` in the server's workbench, with development/test paths in the payload. */
export function workbenchUrl(port: number, options: WorkbenchOptions): string {
  const remote = (p: string): string => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload: [string, string][] = [['skipWelcome', 'true']];
  if (options.extensionDevelopmentPath) {
    payload.push(['extensionDevelopmentPath', remote(options.extensionDevelopmentPath)]);
  }
  if (options.extensionTestsPath) {
    payload.push(['extensionTestsPath', remote(options.extensionTestsPath)]);
  }
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(options.folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** Launches headless (or headed) Chromium with the flags this machine needs. */
export function launchChromium(headless = true): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/**
 * Works around a webview hang of VS Code 1.100's browser workbench under headless Chromium. VS Code's server
 * serves every webview from one origin, so all webviews share one service-worker scope. A new webview frame is
 * then controlled by the previous webview's worker; its bootstrap (pre/index.html) registers a worker under
 * its own URL and waits for a `controllerchange` that never comes, so every second webview stays blank
 * ("Found unexpected service worker controller"). Newer VS Code rewrote that logic (microsoft/vscode#312020).
 * Here the workbench drops old webview worker registrations just before it points a new webview frame at
 * the bootstrap, so the frame starts uncontrolled and claims its own worker. Our webview code runs unchanged.
 */
export async function fixWebviewServiceWorkers(page: Page): Promise<void> {
  await page.addInitScript({ path: path.join(__dirname, 'browser', 'webviewServiceWorkerFix.js') });
}

/** Hooks that VS Code's smoke-test driver calls: the run's exit code and the extension host's console. */
export async function exposeAutomation(
  page: Page,
  onLog: (type: string, args: unknown[]) => void,
): Promise<{ exited: Promise<number> }> {
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => onLog(type, args));
  // Wrapped: an async function returning a bare promise would wait for it.
  return { exited };
}
