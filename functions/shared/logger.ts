import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured (JSON) logger per function bundle. Service name and level come from
 * POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL, set by the stack.
 */
export const logger = new Logger();
