import { DEFAULT_STACK_CONFIG, type StackConfig } from '../../pipeline/stack-config';
import { pipelineRules } from '../../pipeline/topology';

/**
 * The pipeline as local IAM sees it in the unit tests: the default stack with one stream
 * configured (so the clip grants exist), its local bucket names and its event rules.
 */
export const TEST_CONFIG: StackConfig = { ...DEFAULT_STACK_CONFIG, kvsStreams: ['front-camera'] };
export const TEST_BUCKETS = { ingress: 'frames-ingress', frames: 'frames-frames', egress: 'frames-egress' } as const;
export const TEST_RULES = pipelineRules(TEST_CONFIG, TEST_BUCKETS.ingress);
