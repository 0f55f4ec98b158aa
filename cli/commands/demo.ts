import { Command } from 'commander';
import { captureOptions, dataDirOption } from '../command-options';
import type { Io } from '../io';
import { demoSample } from '../sample-video';
import { type RunFlags, runOptionsOf, runVideos } from './run';

/** `frames demo` (what `npm start` runs): `frames run` on a generated sample at 5 fps, or on the video given. */
export function demoCommand(io: Io): Command {
  return captureOptions(
    new Command('demo')
      .description('Run the local pipeline on a generated 10 s sample (captured at 5 fps), or on the video given')
      .argument('[video]', 'a video file to run instead of the sample')
      .option('--processor <path>', 'processor module (exports processFrame)')
      .option('--json', 'print the final job record as JSON')
      .addOption(dataDirOption()),
  ).action(async (video: string | undefined, flags: RunFlags) => {
    const options = runOptionsOf(flags);
    const path = video ?? (await demoSample(options.dataDirectory));
    if (!video) io.stderr.write(`Running the generated sample ${path}\n`);
    process.exitCode = await runVideos([path], { ...options, fps: options.fps ?? (video ? undefined : '5') }, io);
  });
}
