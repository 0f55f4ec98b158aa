import { Command } from 'commander';
import { captureOptions } from '../command-options';
import { type EstimateOptions, estimateVideo } from '../estimate/estimate-command';
import type { Io } from '../io';

const ESTIMATE_HELP = `
The figures (README, "frames estimate", says how each is counted):
  frames        ceil(video stream duration x fps), at most --max-captures; batches of processing.framesPerMessage
  MediaConvert  output minutes of the frame capture and the 180-line proxy (1 s steps, 10 s minimum),
                priced by resolution (SD/HD/UHD) and output frame rate class, as a range: low with
                the frame capture unbilled at the Basic tier, high billed at the Professional tier
                (AWS does not publish either); so the total is a range too
  S3 requests   PUT/LIST: upload, one per frame, proxy, listing, batch results, results files;
                GET/HEAD: the input, one per frame, batch results, your download
  S3 storage    frames, proxy and batch results for framesRetentionDays; video and results a month
  Lambda        requests of ingress, completion (one per MediaConvert event) and workers, and GB-seconds
                from the processor's time per frame (measured here on sample frames, or --ms-per-frame)
  SQS           SendMessageBatch, and the event source mapping's receives and deletes
  DynamoDB      write units of the job record (it grows a few bytes a batch) and its status index
  wall time     one job, and segmented as the ingress would split it (pipeline/segment-plan.ts, from
                the file's MP4/MOV header): jobs side by side up to 20 (waves beyond), each 15 s to
                start then its video at 1x real time; each segment's frames processed as its job
                completes, on min(maxConcurrency, invocations) workers; then the fan-in
Prices are a dated table; check it against AWS's pages or pass your own with --prices.`;

/** `frames estimate`: the command line; the model and the price table are in cli/estimate/. */
export function estimateCommand(io: Io): Command {
  return captureOptions(
    new Command('estimate')
      .description('Estimate what a run on the deployed stack would produce, cost and take (no AWS account needed)')
      .argument('<video>', 'the video file: probed, and 5 sample frames measured with the configured processor')
      .option('--region <region>', 'prices of this region (default: $AWS_REGION, the stack config, or us-east-1)')
      .option('--prices <file>', 'a price table of the shape of cli/estimate/aws-prices.json (default: that file)')
      .option('--ms-per-frame <ms>', "the processor's time per frame on Lambda, instead of the time measured here")
      .option('--json', 'print the inputs, the assumptions and every figure as one JSON object')
      .addHelpText('after', ESTIMATE_HELP),
  ).action(async (video: string, flags: EstimateOptions) => {
    process.exitCode = await estimateVideo(video, flags, io);
  });
}
