import { Construct } from 'constructs';
import { CloudwatchLogMetricFilter } from '@cdktf/provider-aws/lib/cloudwatch-log-metric-filter';
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import type { LambdaFunction } from './lambda-function';
import { ALARM_NAME_INFIX } from '../pipeline/permissions';
import { METRIC_NAMESPACE } from '../pipeline/definition';

/** A log line counted as a metric (pipeline/definition.ts OPERATIONS_LOG). */
export interface LogMetric {
  /** The `message` of the JSON log line. */
  readonly message: string;
  /** The metric's name, in this stack's namespace. */
  readonly metric: string;
  /** The function that writes the line: the filter is on its log group. */
  readonly source: LambdaFunction;
  readonly description: string;
}

export interface PipelineAlarmsProps {
  readonly namePrefix: string;
  /** The notifications topic: every alarm publishes there when it fires. */
  readonly topicArn: string;
  /** The frame queue's dead-letter queue. */
  readonly frameDeadLetters: SqsQueue;
  /** The failure queues, by name suffix (`ingress-failures`, `completion-failures`). */
  readonly failureQueues: Readonly<Record<string, SqsQueue>>;
  /** Every function of the pipeline, by name suffix: each gets an Errors and a Throttles alarm. */
  readonly functions: Readonly<Record<string, LambdaFunction>>;
  /** Log lines counted as metrics, by the kebab-case name of their alarm. */
  readonly logMetrics: Readonly<Record<string, LogMetric>>;
}

/**
 * The namespace of the metrics the stack makes from log lines: one per stack. A metric filter can
 * take a dimension only from a field of the log event, and the lines carry no pipeline name, so
 * the stack is told apart by the namespace instead (`VideoFramePipeline/<namePrefix>`).
 */
export function operationsNamespace(namePrefix: string): string {
  return `${METRIC_NAMESPACE}/${namePrefix}`;
}

const ONE_MINUTE = 60;
const FIVE_MINUTES = 300;

/**
 * What someone should look at, as CloudWatch alarms on the notifications topic, each named
 * `<namePrefix>-alarm-<what>` (the topic's policy admits exactly those): a frame batch
 * dead-lettered, an event kept in a failure queue, a function that failed or was throttled, a run
 * the sweeper had to repair or end, a failed event that named no run. Each fires on one
 * occurrence (threshold 1); no data is not a breach. Only the transition to ALARM is sent: the
 * return to OK would double the mail without saying anything new.
 */
export class PipelineAlarms extends Construct {
  readonly alarms: CloudwatchMetricAlarm[] = [];

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    const alarm = (what: string, description: string, metric: Partial<CloudwatchMetricAlarmConfig>) => {
      const resource = new CloudwatchMetricAlarm(this, what, {
        alarmName: `${props.namePrefix}-${ALARM_NAME_INFIX}${what}`,
        alarmDescription: description,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: 'notBreaching',
        alarmActions: [props.topicArn],
        ...metric,
      });
      this.alarms.push(resource);
      return resource;
    };

    // Messages SQS moves to a dead-letter queue by its redrive policy do not count in the
    // dead-letter queue's NumberOfMessagesSent. The dead-letter function receives each such batch
    // within seconds (NumberOfMessagesReceived), and a batch it does not take stays visible
    // (ApproximateNumberOfMessagesVisible): either one is the alarm.
    const deadLetterQueue = { QueueName: props.frameDeadLetters.name };
    alarm(
      'dead-lettered-batches',
      'A frame batch failed every delivery and was dead-lettered: its frames are counted failed. The frame worker\'s logs say why.',
      {
        metricQuery: [
          {
            id: 'received',
            metric: { namespace: 'AWS/SQS', metricName: 'NumberOfMessagesReceived', dimensions: deadLetterQueue, period: ONE_MINUTE, stat: 'Sum' },
            returnData: false,
          },
          {
            id: 'waiting',
            metric: { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: deadLetterQueue, period: ONE_MINUTE, stat: 'Maximum' },
            returnData: false,
          },
          { id: 'deadLettered', label: 'Dead-lettered batches', expression: 'MAX([received, waiting])', returnData: true },
        ],
      },
    );

    // Lambda's failed-invocation destination and EventBridge's dead-letter deliveries are
    // SendMessage calls, so each kept event counts in NumberOfMessagesSent.
    for (const [name, queue] of Object.entries(props.failureQueues)) {
      alarm(name, `An event failed every retry and was kept in ${name}: its run is FAILED; \`frames redrive\` sends it back.`, {
        namespace: 'AWS/SQS',
        metricName: 'NumberOfMessagesSent',
        dimensions: { QueueName: queue.name },
        statistic: 'Sum',
        period: ONE_MINUTE,
      });
    }

    for (const [name, fn] of Object.entries(props.functions)) {
      const ofFunction = { namespace: 'AWS/Lambda', dimensions: { FunctionName: fn.function.functionName }, statistic: 'Sum', period: FIVE_MINUTES };
      alarm(`${name}-errors`, `An invocation of ${name} failed: its logs say why.`, { ...ofFunction, metricName: 'Errors' });
      alarm(`${name}-throttles`, `Lambda throttled ${name}: the account's concurrency is exhausted.`, { ...ofFunction, metricName: 'Throttles' });
    }

    for (const [name, line] of Object.entries(props.logMetrics)) {
      const namespace = operationsNamespace(props.namePrefix);
      new CloudwatchLogMetricFilter(this, `${name}-filter`, {
        name: `${props.namePrefix}-${name}`,
        logGroupName: line.source.logGroup.name,
        pattern: `{ $.message = ${JSON.stringify(line.message)} }`,
        metricTransformation: { name: line.metric, namespace, value: '1', defaultValue: '0' },
      });
      alarm(name, line.description, { namespace, metricName: line.metric, statistic: 'Sum', period: FIVE_MINUTES });
    }
  }
}
