/**
 * `npm run fuzz -- --count N --seed S [--corpus DIR] [--strace]`: a long fuzz run of the reader (see
 * test/fuzz/run.ts); `--strace` runs the reader under `strace -f -e trace=openat` and checks every file it opened.
 */
import { execFileSync } from 'node:child_process';
import { runFuzz } from '../test/fuzz/run';

function hasStrace(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const count = Number(option('count', '10000'));
  const seed = Number(option('seed', String(Date.now() % 1e9)));
  const corpus = option('corpus', '/usr/share/libonnx-testdata/data');
  const strace = process.argv.includes('--strace');
  if (strace && !hasStrace()) {
    console.error('fuzz: --strace needs strace (Debian package strace), which is not installed');
    process.exitCode = 2;
    return;
  }
  console.log(`fuzz: ${count} mutants from seed ${seed}${strace ? ', reader under strace' : ''}`);
  const report = await runFuzz({
    count,
    seed,
    corpus,
    strace,
    onProgress: (done) => {
      if (done % 500 === 0) console.log(`  ${done}/${count}`);
    },
  });
  console.log(JSON.stringify(report, null, 2));
  const bad = report.crashes.length + report.hangs.length + report.memoryBlowUps.length + report.outsideReads.length;
  process.exitCode = bad === 0 ? 0 : 1;
}

void main();
