/**
 * One process of the benchmark's parallel script: runs the default processor over the JPEG files
 * named on the command line, one after another, and writes one JSON line per frame to stdout. The
 * script starts one of these per core, as a capable user would on one machine
 * (`ls frames | xargs -P $(nproc) …`).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { processFrame } from '../functions/frame-worker/default-processor';

async function main(files: readonly string[]): Promise<void> {
  const lines: string[] = [];
  for (const file of files) {
    const index = Number(basename(file, '.jpg')) - 1;
    const frame = { videoId: 'script', runId: 'script', bucket: 'local', key: file, index, timestampMs: (index * 1000) / 30 };
    lines.push(JSON.stringify({ index, output: await processFrame(frame, readFileSync(file)) }));
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
