import { createHash } from 'node:crypto';
import { RejectedInputError, errorName, messageOf } from '../shared/errors';
import type { CaptureSettings } from '../../pipeline/capture-settings';
import { type CheckedClipRequest, type ClipRequest, checkClipRequest } from '../../pipeline/clip-request';
import { OVERRIDE_METADATA } from '../../pipeline/definition';
import { type JobError, type JobRecord, ERROR_CODE, JOB_STATUS } from '../../pipeline/job-record';
import { type RunLayout, runLayout } from '../../pipeline/run-layout';
import { resolveCaptureSettings } from './capture-overrides';
import { type ClipPiece, clipTimeline, planClipPieces } from './clip-pieces';
import { type StreamArchive, type TimeRange } from './kvs-archive';
import { type Clock, FragmentPacer, KVS_THROTTLE_RETRY, isThrottled, realClock, retryWhileThrottled } from './kvs-throttle';
import { type IngressDependencies, type SubmitOutcome, recordRejected, reopenedIfRedriven, submitClaimedRun } from './submit-job';
import { normalizeSequencer, storagePrefixForVideo } from './video-key';

/** One clip request as it reached the function. */
export interface ClipDelivery {
  readonly request: ClipRequest;
  /** Stable across redeliveries: the EventBridge event id, the request's own id, or Lambda's request id. */
  readonly requestId: string;
  readonly receivedAt: Date;
  /** The event came back through `frames redrive`: a run the pipeline gave up on may resume. */
  readonly redriven?: boolean;
}

/** How clipping waits: injectable so tests need not sleep. */
export interface ClipTiming {
  readonly clock: Clock;
  readonly random: () => number;
}

const defaultTiming: ClipTiming = { clock: realClock, random: Math.random };

interface ClipRun {
  readonly videoId: string;
  readonly runId: string;
  readonly layout: RunLayout;
}

/**
 * Pulls a time range of a Kinesis video stream into the ingress bucket and submits one
 * frame-capture job over it, exactly once per request.
 *
 * The run is claimed as CLIPPING first, so "how far is it" is answerable at once. Then
 * ListFragments (every page, sorted: pages come in no order), pieces of at most 200 fragments and
 * 90 MB each, one GetClip per piece paced under the stream's fragment budget and streamed into the
 * bucket, and only when every piece is stored does the run move to SUBMITTED: a partial clip is
 * never submitted. MediaConvert stitches the pieces, in order, into one timeline, so frame indices
 * and timestamps run on across pieces.
 *
 * A redelivery finds its run CLIPPING (an earlier delivery crashed, or is still at it) and clips
 * again: pieces are written under the same keys, so that is safe; or finds it SUBMITTED without a
 * job, and submits.
 */
export async function submitClip(
  dependencies: IngressDependencies,
  delivery: ClipDelivery,
  timing: ClipTiming = defaultTiming,
): Promise<SubmitOutcome> {
  const { request } = delivery;
  const checked = checkClipRequest(request);
  const { run, source } = clipRunOf(delivery, dependencies.settings.ingressBucket, dependencies.now());
  const { videoId, runId } = run;

  let capture: CaptureSettings;
  try {
    if (!checked.request) {
      throw new RejectedInputError(ERROR_CODE.invalidClipRequest, `The clip request cannot be used: ${checked.problems.join(' ')}`);
    }
    capture = resolveCaptureSettings(captureMetadata(request), dependencies.settings.defaultCapture);
  } catch (error) {
    if (!(error instanceof RejectedInputError)) throw error;
    return recordRejected(dependencies, source, error);
  }
  const clip = checked.request;

  const record: JobRecord = {
    ...source,
    Status: JOB_STATUS.clipping,
    RunPrefix: run.layout.runPrefix,
    FramesPrefix: run.layout.framesPrefix,
    ProxyPrefix: run.layout.proxyPrefix,
    FpsNumerator: capture.fps.numerator,
    FpsDenominator: capture.fps.denominator,
    Quality: capture.quality,
    MaxCaptures: capture.maxCaptures,
  };
  const claim = await dependencies.jobs.claimRun(record);
  const submit = (pieces: number, claimedAt: Date, claimedNow: boolean) =>
    submitClaimedRun(dependencies, {
      videoId,
      runId,
      inputUris: Array.from({ length: pieces }, (_, piece) => `s3://${dependencies.settings.ingressBucket}/${run.layout.clipPieceKey(piece)}`),
      capture,
      framesPrefix: run.layout.framesPrefix,
      proxyPrefix: run.layout.proxyPrefix,
      claimedAt,
      claimedNow,
    });
  if (!claim.claimed) {
    if (claim.current.RunId !== runId) return { outcome: 'superseded', videoId, runId };
    const current = await reopenedIfRedriven(dependencies, claim.current, delivery.redriven === true, record);
    if (current.Status === JOB_STATUS.submitted && !current.MediaConvertJobId && current.ClipPieces) {
      return submit(current.ClipPieces, new Date(current.CreatedAt), false);
    }
    if (current.Status !== JOB_STATUS.clipping) return { outcome: 'duplicate', videoId, runId };
    // CLIPPING: the delivery that claimed it crashed (or is still at work); clip again.
  }

  let pulled: { pieces: ClipPiece[]; bytes: number };
  try {
    pulled = await pullClip(dependencies, clip, run.layout, timing);
  } catch (error) {
    const failure = clipFailure(error, clip);
    const failedAt = dependencies.now().toISOString();
    if (!failure) {
      await dependencies.jobs.recordSubmitRetry(
        videoId,
        runId,
        { Code: ERROR_CODE.clipRetrying, Message: `Pulling the clip failed and will be retried: ${messageOf(error)}` },
        failedAt,
      );
      throw error;
    }
    await dependencies.jobs.recordFailure(videoId, runId, failure, failedAt);
    return { outcome: 'failed', videoId, runId, error: failure };
  }

  const { pieces } = pulled;
  const recorded = await dependencies.jobs.recordClipped(
    videoId,
    runId,
    {
      ClipFragments: pieces.reduce((sum, piece) => sum + piece.fragments.length, 0),
      ClipPieces: pieces.length,
      ClipFirstProducerTimestamp: new Date(pieces[0].fragments[0].producerMs).toISOString(),
      ClipTimeline: clipTimeline(pieces),
      SourceSize: pulled.bytes,
    },
    dependencies.now().toISOString(),
  );
  // Another delivery finished the clip first (and submits it), or a newer request took over.
  if (!recorded) return { outcome: 'duplicate', videoId, runId };
  return submit(pieces.length, new Date(record.CreatedAt), true);
}

/**
 * The run a clip request starts, and its record's first attributes: derived from the request
 * alone, so every delivery of one request (and the failed-events function) names the same run.
 */
export function clipRunOf(delivery: ClipDelivery, ingressBucket: string, now: Date) {
  const { request } = delivery;
  const checked = checkClipRequest(request);
  const videoId = checked.request?.videoId ?? request.videoId ?? `kvs/${request.stream}/${request.start}--${request.end}`;
  const runId = createHash('sha256').update(`clip\n${videoId}\n${delivery.requestId}`).digest('hex').slice(0, 20);
  const run: ClipRun = { videoId, runId, layout: runLayout(`${storagePrefixForVideo(videoId)}/${runId}`) };
  const at = now.toISOString();
  const source = {
    VideoId: videoId,
    RunId: runId,
    SourceBucket: ingressBucket,
    SourceKey: run.layout.clipPiecesPrefix,
    // Requests have no S3 sequencer; the time received orders requests for one video id the same way.
    SourceSequencer: normalizeSequencer(delivery.receivedAt.getTime().toString(16).padStart(16, '0')),
    SourceStream: request.stream,
    ClipStart: checked.request ? new Date(checked.request.startMs).toISOString() : request.start,
    ClipEnd: checked.request ? new Date(checked.request.endMs).toISOString() : request.end,
    ClipTimestampType: checked.request?.timestampType ?? request.timestampType ?? 'PRODUCER_TIMESTAMP',
    CreatedAt: at,
    UpdatedAt: at,
  };
  return { run, source };
}

/** The request's capture overrides in the form the upload path reads them (object metadata). */
function captureMetadata(request: ClipRequest): Record<string, string> {
  const metadata: Record<string, string> = {};
  const { capture } = request;
  if (capture?.fps !== undefined) metadata[OVERRIDE_METADATA.fps] = String(capture.fps);
  if (capture?.quality !== undefined) metadata[OVERRIDE_METADATA.quality] = String(capture.quality);
  if (capture?.maxCaptures !== undefined) metadata[OVERRIDE_METADATA.maxCaptures] = String(capture.maxCaptures);
  return metadata;
}

async function pullClip(
  dependencies: IngressDependencies,
  clip: CheckedClipRequest,
  layout: RunLayout,
  timing: ClipTiming,
): Promise<{ pieces: ClipPiece[]; bytes: number }> {
  const { archive, objects, settings } = dependencies;
  const retry = <T>(call: () => Promise<T>) => retryWhileThrottled(call, { ...KVS_THROTTLE_RETRY, ...timing });
  const range: TimeRange = { startMs: clip.startMs, endMs: clip.endMs };

  const fragments = await retry(() => archive.listFragments(clip.stream, clip.timestampType, range));
  if (fragments.length === 0) await explainEmptyRange(archive, clip, range, retry);
  const pieces = planClipPieces(fragments, clip.timestampType, clip.endMs);

  // One pacer per clip: the budget is the stream's, and this clip reads it one piece at a time.
  const pacer = new FragmentPacer(undefined, timing.clock);
  let bytes = 0;
  for (const [index, piece] of pieces.entries()) {
    await pacer.take(piece.fragments.length);
    const written = await retry(async () => {
      const body = await archive.getClip(clip.stream, clip.timestampType, { startMs: piece.startMs, endMs: piece.endMs });
      return objects.upload(settings.ingressBucket, layout.clipPieceKey(index), body, 'video/mp4');
    });
    if (written === 0) {
      throw new RejectedInputError(
        ERROR_CODE.clipIncomplete,
        `GetClip returned no media for piece ${index + 1} of ${pieces.length} (${piece.fragments.length} fragments from ${new Date(piece.startMs).toISOString()}); the clip would be partial, so it was not submitted. Request it again.`,
      );
    }
    bytes += written;
  }
  return { pieces, bytes };
}

/**
 * ListFragments lists nothing both for an empty range and for a stream that keeps no media at all.
 * GetClip tells them apart (NoDataRetentionException), so it is asked over the whole range; its
 * answer, whatever it is, is what the record says.
 */
async function explainEmptyRange(
  archive: StreamArchive,
  clip: CheckedClipRequest,
  range: TimeRange,
  retry: <T>(call: () => Promise<T>) => Promise<T>,
): Promise<never> {
  const emptyMessage = `Stream ${clip.stream.name} has no fragments between ${new Date(range.startMs).toISOString()} and ${new Date(range.endMs).toISOString()} by ${clip.timestampType}. Check the range (and its time zone), the timestamp type, and that the stream's retention still covers it.`;
  try {
    const body = await retry(() => archive.getClip(clip.stream, clip.timestampType, range));
    body.destroy();
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
    throw new RejectedInputError(ERROR_CODE.clipEmpty, `${emptyMessage} (${errorName(error)}: ${messageOf(error)})`);
  }
  throw new RejectedInputError(ERROR_CODE.clipEmpty, emptyMessage);
}

const notAllowed = (stream: string) =>
  `The pipeline may not read stream ${stream}. The stack grants KVS access only to the streams in kvsStreams of frames.config.json: add it and deploy again.`;

/** What a person should do about each error KVS answers a clip with. */
const KVS_ERROR_ADVICE: Record<string, (stream: string) => string> = {
  ResourceNotFoundException: (stream) =>
    `Kinesis Video Streams has no stream ${stream} in this account and region. Check the stream name or ARN, and that the stack runs in the stream's region.`,
  NoDataRetentionException: (stream) =>
    `Stream ${stream} keeps no media (its data retention is 0 hours), so there is nothing to clip. Give the stream a retention period; media sent from then on can be clipped.`,
  UnsupportedStreamMediaTypeException: (stream) =>
    `Stream ${stream} does not carry H.264 or H.265 video (optionally with AAC or G.711 audio), which GetClip requires. Send it in a supported codec.`,
  MissingCodecPrivateDataException: (stream) =>
    `The fragments of stream ${stream} carry no codec private data, which GetClip needs. Fix the producer's settings (see KVS's "NAL adaptation flags").`,
  InvalidCodecPrivateDataException: (stream) =>
    `The codec private data of stream ${stream} is not valid for GetClip. Fix the producer's settings (see KVS's "NAL adaptation flags").`,
  InvalidMediaFrameException: (stream) =>
    `Some frames of stream ${stream} in the range cannot be parsed with the stream's codec. Request a range without them.`,
  InvalidArgumentException: () =>
    'Kinesis Video Streams refused the request. Check the range (with SERVER_TIMESTAMP it must be in the past) and the timestamp type.',
  // KVS's own answer, and IAM's when the policy has no statement for the stream.
  NotAuthorizedException: notAllowed,
  AccessDeniedException: notAllowed,
  ClientLimitExceededException: (stream) =>
    `Kinesis Video Streams kept throttling reads of stream ${stream} for ${KVS_THROTTLE_RETRY.maxAttempts} attempts: other readers use its budget. Request the clip again later.`,
};

/** The job's failure for an error a person must act on; undefined for errors worth retrying. */
function clipFailure(error: unknown, clip: CheckedClipRequest): JobError | undefined {
  if (error instanceof RejectedInputError) return { Code: error.code, Message: error.message };
  const name = errorName(error);
  const advice = name ? KVS_ERROR_ADVICE[name] : undefined;
  if (!name || !advice) return undefined;
  // Throttling reaches here only once the retries are spent.
  const detail = isThrottled(error) ? '' : ` (${messageOf(error)})`;
  return {
    Code: ERROR_CODE.kvsError,
    ServiceCode: name,
    Message: `${advice(clip.stream.name)}${detail}`,
  };
}
