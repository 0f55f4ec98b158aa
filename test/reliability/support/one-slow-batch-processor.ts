/**
 * A processor for the reliability suite: the default analysis, except that the first time any
 * worker of the local cloud processes frame SLOW_FRAME_INDEX it takes SLOW_FRAME_MS over it, longer
 * than the frame queue's visibility timeout under fault injection (FAULT_SETTINGS.redeliverySeconds).
 * So one batch is always delivered again while its first delivery is still running, which SQS
 * allows, and which a loaded machine otherwise brings about only now and then.
 *
 * Used with a processor fault on (`--processor` with FRAMES_FAULTS=processor-throws): the local
 * cloud then hands the worker FRAMES_FAULT_STATE, the per-cloud directory where the "first time"
 * is noted (the file is created exclusively, so only one process, once, sleeps).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessFrame } from '../../../functions/frame-worker/frame-processor';
import { processFrame as analyse } from '../../../functions/frame-worker/default-processor';
import { FAULT_SETTINGS, FAULT_STATE_VARIABLE } from '../../../local/faults/fault-plan';

/** The first frame of batch 1 with 25 frames a message. */
export const SLOW_FRAME_INDEX = 25;
/** The visibility timeout, plus time for the other poller to finish its batch and receive this one. */
export const SLOW_FRAME_MS = FAULT_SETTINGS.redeliverySeconds * 1000 + 7_000;

function firstSlowFrame(): boolean {
  const directory = process.env[FAULT_STATE_VARIABLE];
  if (!directory) return false;
  try {
    writeFileSync(join(directory, 'slow-frame'), String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

export const processFrame: ProcessFrame = async (frame, image) => {
  if (frame.index === SLOW_FRAME_INDEX && firstSlowFrame()) {
    await new Promise((resolve) => setTimeout(resolve, SLOW_FRAME_MS));
  }
  return analyse(frame, image);
};
