/**
 * Builds a platform-specific VSIX: production bundles plus only that platform's onnxruntime-node binaries.
 * Usage: npm run package [-- --target linux-x64|linux-arm64|darwin-arm64|darwin-x64|win32-x64|win32-arm64] [--out file.vsix]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
/** onnxruntime-node's binary folders (bin/napi-v6/<platform>/<arch>) by VS Code target. */
const ORT_BINARIES: Record<string, string> = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'darwin-x64': 'darwin/x64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};

/** Strings only the test hooks contain (see src/testHooks.ts): none may be in a production bundle. */
export const TEST_HOOK_MARKERS = [
  'probe/scroll',
  'probeScroll',
  'lastRender',
  'waitForRender',
  'RenderReports',
  'rendered',
  'getImageData',
  'rowTimes',
];

/** The test hook markers found in the bundles under dist/ (extension and webviews), as `file: marker`. */
export function testHooksIn(dist = path.join(ROOT, 'dist')): string[] {
  const bundles = [
    ...readdirSync(dist).filter((f) => f.endsWith('.js')),
    ...readdirSync(path.join(dist, 'webview'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => `webview/${f}`),
  ];
  return bundles.flatMap((f) => {
    const text = readFileSync(path.join(dist, f), 'utf8');
    return TEST_HOOK_MARKERS.filter((m) => text.includes(m)).map((m) => `dist/${f}: ${m}`);
  });
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status}`);
  }
}

/** Packages the extension for `target`; returns the VSIX path. */
export function packageVsix(target = `${process.platform}-${process.arch}`, out?: string): string {
  const binaries = ORT_BINARIES[target];
  if (!binaries) {
    throw new Error(`Unsupported target '${target}'. Supported: ${Object.keys(ORT_BINARIES).join(', ')}`);
  }
  const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const vsix = out ?? path.join(ROOT, `quantlens-${version}-${target}.vsix`);
  run(process.execPath, ['scripts/build.mjs', '--production']);
  const hooks = testHooksIn();
  if (hooks.length > 0) throw new Error(`The production bundles hold test hooks:\n${hooks.join('\n')}`);
  const ignoreFile = path.join(tmpdir(), `quantlens-vscodeignore-${target}`);
  const targetBinaries = `!node_modules/onnxruntime-node/bin/napi-v6/${binaries}/**`;
  writeFileSync(ignoreFile, `${readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8')}\n${targetBinaries}\n`);
  // Every bundle the extension loads must be in the package (a worker missing from .vscodeignore fails only
  // when that worker starts).
  const listed = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'ls', '--ignoreFile', ignoreFile],
    { cwd: ROOT, encoding: 'utf8' },
  );
  const needed = [
    'dist/extension.js',
    ...readdirSync(path.join(ROOT, 'dist'))
      .filter((f) => f.endsWith('Worker.js'))
      .map((f) => `dist/${f}`),
  ];
  const missing = needed.filter(
    (f) =>
      !listed.stdout
        .split('\n')
        .map((l) => l.trim())
        .includes(f),
  );
  if (listed.status !== 0 || missing.length > 0) {
    throw new Error(
      `The VSIX would miss ${missing.join(', ') || '(vsce ls failed)'}: add them to .vscodeignore. ${listed.stderr}`,
    );
  }
  run(process.execPath, [
    path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'),
    'package',
    '--target',
    target,
    '--ignoreFile',
    ignoreFile,
    '--out',
    vsix,
    '--allow-missing-repository',
  ]);
  console.log(`[package] ${path.relative(process.cwd(), vsix)}: ${(statSync(vsix).size / 2 ** 20).toFixed(1)} MiB`);
  return vsix;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  try {
    packageVsix(opt('--target'), opt('--out'));
  } catch (error) {
    console.error(`[package] ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
