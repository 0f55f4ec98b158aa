/**
 * The frame worker's processor under fault injection (local mode only; local/faults/fault-plan.ts).
 * Bundled in place of the configured processor, which it wraps (`@frames/inner-processor` resolves
 * to it): it throws for some frames, or kills its own process mid-batch once per run, as the
 * FRAMES_FAULTS the local cloud passed to the worker say; every other frame goes to the real one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processFrame as configuredProcessor } from '@frames/inner-processor';
import type { ProcessFrame } from '../../functions/frame-worker/frame-processor';
import { FAULTS_VARIABLE, FAULT_SETTINGS, FAULT_STATE_VARIABLE, parseFaultPlan, recordInjectedFault } from './fault-plan';

const plan = parseFaultPlan(process.env[FAULTS_VARIABLE]);
const stateDirectory = process.env[FAULT_STATE_VARIABLE] ?? '.';

export class InjectedProcessorFault extends Error {
  override readonly name = 'InjectedProcessorFault';
}

/** True the first time it is asked for a run, in any process: the file is created exclusively. */
function firstCrashOfRun(runId: string): boolean {
  try {
    writeFileSync(join(stateDirectory, `worker-crash-${runId}`), String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

export const processFrame: ProcessFrame = async (frame, image) => {
  if (plan.has('worker-crash') && frame.index === FAULT_SETTINGS.workerCrashAtIndex && firstCrashOfRun(frame.runId)) {
    recordInjectedFault(stateDirectory, 'worker-crash', `killed at frame ${frame.index} of run ${frame.runId}`);
    // As an out-of-memory kill or a hardware fault would: no chance to report or clean up.
    process.kill(process.pid, 'SIGKILL');
  }
  const { every, at } = FAULT_SETTINGS.processorThrows;
  if (plan.has('processor-throws') && frame.index % every === at) {
    recordInjectedFault(stateDirectory, 'processor-throws', `frame ${frame.index} of run ${frame.runId}`);
    throw new InjectedProcessorFault(`injected fault (processor-throws) for frame ${frame.index}`);
  }
  return configuredProcessor(frame, image);
};
