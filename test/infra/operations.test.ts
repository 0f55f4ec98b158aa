import { FAILED_EVENTS_TIMEOUT_SECONDS, FAILURE_QUEUE_SETTINGS, OPERATIONS_LOG } from '../../pipeline/definition';
import { outcomeEventPattern } from '../../pipeline/outcome-event';
import { rateExpression } from '../../modules/scheduled-trigger';
import { logger } from '../../functions/shared/logger';
import { type SynthesizedStack, grantsOf, referenceTo, resourcesOf, synthesizeStack, theResource } from '../support/synth';

/**
 * What keeps a deployed pipeline from stalling unseen (issue 19): the failed-events function on
 * the failure queues, the sweeper on a schedule, the notifications topic with its key, its
 * subscriptions, the outcome rule, and the alarms that publish to it.
 */
let stack: SynthesizedStack;
/** Every optional part the other way round: another prefix, emails, every outcome, a sweep a minute. */
let custom: SynthesizedStack;
beforeAll(() => {
  stack = synthesizeStack();
  custom = synthesizeStack({
    namePrefix: 'dashcam',
    operations: { sweepEveryMinutes: 1, notificationEmails: ['ops@example.com', 'oncall@example.org'], notifyOutcomes: 'all' },
  });
});

const ref = (synthesized: SynthesizedStack, type: string, predicate: (r: any) => boolean, attribute: string) =>
  referenceTo(synthesized, type, predicate, attribute);
const topicArn = (synthesized = stack) => ref(synthesized, 'aws_sns_topic', () => true, 'arn');
const functionName = (name: string, synthesized = stack) => ref(synthesized, 'aws_lambda_function', (f) => f.function_name === name, 'function_name');
const queueRef = (name: string, attribute: string, synthesized = stack) => ref(synthesized, 'aws_sqs_queue', (q) => q.name === name, attribute);
const alarmsOf = (synthesized: SynthesizedStack) => resourcesOf(synthesized, 'aws_cloudwatch_metric_alarm');
const alarm = (name: string, synthesized = stack) => theResource(synthesized, 'aws_cloudwatch_metric_alarm', (a) => a.alarm_name === name);
const FUNCTION_SUFFIXES = ['ingress', 'completion', 'frame-worker', 'frame-dead-letters', 'failed-events', 'sweeper'];

/** IAM's ArnLike: `*` any run of characters, `?` one character, nothing else special. */
const arnLike = (pattern: string, arn: string) =>
  new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')}$`).test(arn);

describe('alarms', () => {
  it('are exactly these, each named <prefix>-alarm-<what>', () => {
    expect(alarmsOf(stack).map((a) => a.alarm_name).sort()).toEqual(
      [
        'frames-alarm-dead-lettered-batches',
        'frames-alarm-ingress-failures',
        'frames-alarm-completion-failures',
        ...FUNCTION_SUFFIXES.flatMap((fn) => [`frames-alarm-${fn}-errors`, `frames-alarm-${fn}-throttles`]),
        'frames-alarm-runs-swept',
        'frames-alarm-unattributed-failed-events',
      ].sort(),
    );
    expect(alarmsOf(custom).every((a) => a.alarm_name.startsWith('dashcam-alarm-'))).toBe(true);
    expect(alarmsOf(custom)).toHaveLength(alarmsOf(stack).length);
  });

  it('each fires on one occurrence in a minute or five, treats no data as fine, and publishes to the topic', () => {
    for (const each of alarmsOf(stack)) {
      expect({ name: each.alarm_name, ...each }).toMatchObject({
        name: each.alarm_name,
        comparison_operator: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        treat_missing_data: 'notBreaching',
        alarm_actions: [topicArn()],
      });
      const periods = each.metric_query ? each.metric_query.filter((q: any) => q.metric).map((q: any) => q.metric.period) : [each.period];
      expect(periods.length).toBeGreaterThan(0);
      for (const period of periods) expect([60, 300]).toContain(period);
      expect(each.alarm_description).toEqual(expect.any(String));
    }
  });

  it("a dead-lettered frame batch: received by the dead-letter function, or waiting in its queue (a redrive is not a SendMessage)", () => {
    const deadLetters = { QueueName: queueRef('frames-frames-dead-letters', 'name') };
    const { metric_query: queries, ...rest } = alarm('frames-alarm-dead-lettered-batches');
    expect(rest.metric_name).toBeUndefined();
    expect(queries).toEqual([
      { id: 'received', metric: { namespace: 'AWS/SQS', metric_name: 'NumberOfMessagesReceived', dimensions: deadLetters, period: 60, stat: 'Sum' }, return_data: false },
      { id: 'waiting', metric: { namespace: 'AWS/SQS', metric_name: 'ApproximateNumberOfMessagesVisible', dimensions: deadLetters, period: 60, stat: 'Maximum' }, return_data: false },
      { id: 'deadLettered', label: expect.any(String), expression: 'MAX([received, waiting])', return_data: true },
    ]);
  });

  it.each(['ingress-failures', 'completion-failures'])('an event kept in %s (destinations and EventBridge dead letters are SendMessage)', (queue) => {
    expect(alarm(`frames-alarm-${queue}`)).toMatchObject({
      namespace: 'AWS/SQS',
      metric_name: 'NumberOfMessagesSent',
      statistic: 'Sum',
      period: 60,
      dimensions: { QueueName: queueRef(`frames-${queue}`, 'name') },
    });
  });

  it.each(FUNCTION_SUFFIXES)('an error and a throttle of %s', (fn) => {
    for (const metric of ['Errors', 'Throttles']) {
      expect(alarm(`frames-alarm-${fn}-${metric.toLowerCase()}`)).toMatchObject({
        namespace: 'AWS/Lambda',
        metric_name: metric,
        statistic: 'Sum',
        period: 300,
        dimensions: { FunctionName: functionName(`frames-${fn}`) },
      });
    }
  });

  it.each([
    ['runs-swept', OPERATIONS_LOG.runSwept, 'frames-sweeper'],
    ['unattributed-failed-events', OPERATIONS_LOG.unattributedEvent, 'frames-failed-events'],
  ] as const)('%s: a metric filter counts the JSON log line on its function\'s log group, and an alarm watches it', (what, line, fn) => {
    const logGroup = ref(stack, 'aws_cloudwatch_log_group', (g) => g.name === `/aws/lambda/${fn}`, 'name');
    const filter = theResource(stack, 'aws_cloudwatch_log_metric_filter', (f) => f.log_group_name === logGroup);
    expect(filter).toEqual({
      name: `frames-${what}`,
      log_group_name: logGroup,
      pattern: `{ $.message = "${line.message}" }`,
      // A filter's dimensions can only come from the log event; the stack is told apart by namespace.
      metric_transformation: { name: line.metric, namespace: 'VideoFramePipeline/frames', value: '1', default_value: '0' },
    });
    expect(alarm(`frames-alarm-${what}`)).toMatchObject({ namespace: 'VideoFramePipeline/frames', metric_name: line.metric, statistic: 'Sum', period: 300 });
    expect(alarm(`dashcam-alarm-${what}`, custom)).toMatchObject({ namespace: 'VideoFramePipeline/dashcam', metric_name: line.metric });
    expect(resourcesOf(stack, 'aws_cloudwatch_log_metric_filter')).toHaveLength(Object.keys(OPERATIONS_LOG).length);
  });
});

/** The field and value of a metric filter pattern `{ $.<field> = "<value>" }`. */
function equalityFilter(pattern: string): { field: string; value: string } {
  const match = /^\{ \$\.([A-Za-z0-9_]+) = ("(?:[^"\\]|\\.)*") \}$/.exec(pattern);
  if (!match) throw new Error(`not a JSON equality filter: ${pattern}`);
  return { field: match[1]!, value: JSON.parse(match[2]!) };
}

it.each(Object.entries(OPERATIONS_LOG))("the %s filter matches the JSON line the functions' logger writes for it", (_, line) => {
  const filter = theResource(stack, 'aws_cloudwatch_log_metric_filter', (f) => f.metric_transformation.name === line.metric);
  const { field, value } = equalityFilter(filter.pattern);
  const written: string[] = [];
  const capture = (chunk: unknown) => {
    written.push(String(chunk));
    return true;
  };
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    // As functions/sweeper and functions/failed-events write them: a message and some keys.
    logger.warn(line.message, { status: 'PROCESSING', why: 'test' });
    logger.info('something else');
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  const events = written.join('').split('\n').filter((text) => text.trim()).map((text) => JSON.parse(text));
  expect(events.map((event) => event[field] === value)).toEqual([true, false]);
});

describe('the notifications topic', () => {
  const statementsOf = (json: string) => JSON.parse(json).Statement as any[];
  const keyArn = () => ref(stack, 'aws_kms_key', () => true, 'arn');
  const ACCOUNT = /^\$\{data\.aws_caller_identity\.[^}]+\.account_id\}$/;

  it('is encrypted with a customer managed key of its own, rotated, with an alias', () => {
    expect(resourcesOf(stack, 'aws_sns_topic')).toEqual([{ name: 'frames-notifications', kms_master_key_id: keyArn() }]);
    expect(resourcesOf(stack, 'aws_kms_key')).toEqual([expect.objectContaining({ enable_key_rotation: true, policy: expect.any(String) })]);
    expect(resourcesOf(stack, 'aws_kms_alias')).toEqual([
      { name: 'alias/frames-notifications', target_key_id: ref(stack, 'aws_kms_key', () => true, 'key_id') },
    ]);
    expect(resourcesOf(custom, 'aws_sns_topic')[0].name).toBe('dashcam-notifications');
  });

  it("has a key policy that lets the account administer it, and only this account's alarms and rules use it", () => {
    const [key] = resourcesOf(stack, 'aws_kms_key');
    expect(statementsOf(key.policy)).toEqual([
      {
        Sid: 'AccountAdministersKey',
        Effect: 'Allow',
        Principal: { AWS: expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\}:iam::\$\{data\.aws_caller_identity\.[^}]+\}:root$/) },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'AlarmsAndRulesEncrypt',
        Effect: 'Allow',
        Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': expect.stringMatching(ACCOUNT) } },
      },
    ]);
  });

  it("admits exactly this stack's alarms and outcome rule, and refuses plain HTTP", () => {
    const policy = theResource(stack, 'aws_sns_topic_policy', (p) => p.arn === topicArn());
    const [alarms, rule, deny, ...others] = statementsOf(policy.policy);
    expect(others).toEqual([]);
    expect(alarms).toMatchObject({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Resource: topicArn() });
    expect(alarms.Condition.StringEquals['aws:SourceAccount']).toMatch(ACCOUNT);
    expect(rule).toMatchObject({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish', Resource: topicArn() });
    expect(deny).toEqual({
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sns:*',
      Resource: [topicArn()],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });

    // Every alarm of the stack may publish, and no other stack's.
    const pattern: string = alarms.Condition.ArnLike['aws:SourceArn'];
    const alarmArn = (name: string) => `${pattern.slice(0, pattern.indexOf(':alarm:'))}:alarm:${name}`;
    expect(pattern).toMatch(/^arn:\$\{data\.aws_partition\.[^}]+\}:cloudwatch:\$\{data\.aws_region\.[^}]+\}:\$\{data\.aws_caller_identity\.[^}]+\}:alarm:/);
    for (const { alarm_name: name } of alarmsOf(stack)) expect({ name, admitted: arnLike(pattern, alarmArn(name)) }).toEqual({ name, admitted: true });
    for (const name of ['dashcam-alarm-sweeper-errors', 'frames-other-alarm', 'framesalarm-x']) expect({ name, admitted: arnLike(pattern, alarmArn(name)) }).toEqual({ name, admitted: false });

    // The outcome rule, by the name the stack gives it.
    const ruleArn: string = rule.Condition.ArnEquals['aws:SourceArn'];
    expect(ruleArn).toMatch(/^arn:\$\{data\.aws_partition\.[^}]+\}:events:\$\{data\.aws_region\.[^}]+\}:\$\{data\.aws_caller_identity\.[^}]+\}:rule\/frames-notify-outcomes$/);
    expect(resourcesOf(stack, 'aws_cloudwatch_event_rule').map((r) => r.name)).toContain(ruleArn.slice(ruleArn.lastIndexOf('/') + 1));
  });

  it('has no subscription unless emails are configured, then one email subscription each', () => {
    expect(resourcesOf(stack, 'aws_sns_topic_subscription')).toEqual([]);
    expect(resourcesOf(custom, 'aws_sns_topic_subscription').sort((a, b) => a.endpoint.localeCompare(b.endpoint))).toEqual([
      { topic_arn: topicArn(custom), protocol: 'email', endpoint: 'oncall@example.org' },
      { topic_arn: topicArn(custom), protocol: 'email', endpoint: 'ops@example.com' },
    ]);
  });

  it('is an output', () => {
    expect(stack.output.notification_topic_arn.value).toBe(topicArn());
  });
});

describe('outcome notifications', () => {
  const notifyRule = (synthesized: SynthesizedStack, prefix = 'frames') =>
    resourcesOf(synthesized, 'aws_cloudwatch_event_rule').filter((r) => r.name === `${prefix}-notify-outcomes`);
  const topicTargets = (synthesized: SynthesizedStack) =>
    resourcesOf(synthesized, 'aws_cloudwatch_event_target').filter((t) => t.arn === topicArn(synthesized));

  it("send this stack's failed runs to the topic by default", () => {
    const [rule] = notifyRule(stack);
    expect(JSON.parse(rule.event_pattern)).toEqual(outcomeEventPattern('frames', 'failed'));
    expect(topicTargets(stack)).toEqual([
      { rule: ref(stack, 'aws_cloudwatch_event_rule', (r) => r.name === 'frames-notify-outcomes', 'name'), arn: topicArn() },
    ]);
  });

  it("send every run's outcome with notifyOutcomes 'all'", () => {
    const [rule] = notifyRule(custom, 'dashcam');
    expect(JSON.parse(rule.event_pattern)).toEqual(outcomeEventPattern('dashcam', 'all'));
    expect(JSON.parse(rule.event_pattern)['detail-type']).toEqual(['Video Frames Completed', 'Video Frames Failed']);
    expect(topicTargets(custom)).toHaveLength(1);
  });

  it("are not sent with notifyOutcomes 'none': no rule, nothing targets the topic, which stays for the alarms", () => {
    const none = synthesizeStack({ operations: { notifyOutcomes: 'none' } });
    expect(notifyRule(none)).toEqual([]);
    expect(topicTargets(none)).toEqual([]);
    expect(resourcesOf(none, 'aws_sns_topic')).toHaveLength(1);
    expect(alarmsOf(none).every((a) => a.alarm_actions[0] === topicArn(none))).toBe(true);
  });
});

describe('the sweeper schedule', () => {
  const scheduleOf = (synthesized: SynthesizedStack, prefix = 'frames') =>
    theResource(synthesized, 'aws_cloudwatch_event_rule', (r) => r.name === `${prefix}-sweep`);

  it('runs the sweeper every 5 minutes by default, every minute (singular unit) when configured', () => {
    expect(scheduleOf(stack)).toMatchObject({ schedule_expression: 'rate(5 minutes)' });
    expect(scheduleOf(stack).event_pattern).toBeUndefined();
    expect(scheduleOf(custom, 'dashcam')).toMatchObject({ schedule_expression: 'rate(1 minute)' });
    expect(rateExpression(60)).toBe('rate(60 minutes)');
    expect(() => rateExpression(0)).toThrow();
  });

  it('targets the sweeper with a modest retry and no dead-letter queue (the next tick does the work again)', () => {
    const sweeperArn = ref(stack, 'aws_lambda_function', (f) => f.function_name === 'frames-sweeper', 'arn');
    const rule = ref(stack, 'aws_cloudwatch_event_rule', (r) => r.name === 'frames-sweep', 'name');
    expect(resourcesOf(stack, 'aws_cloudwatch_event_target').filter((t) => t.rule === rule)).toEqual([
      { rule, arn: sweeperArn, retry_policy: { maximum_event_age_in_seconds: 300, maximum_retry_attempts: 2 } },
    ]);
    // Lambda does not retry a failed sweep either: the retry would race the next tick.
    expect(theResource(stack, 'aws_lambda_function_event_invoke_config', (c) => c.function_name === functionName('frames-sweeper'))).toEqual({
      function_name: functionName('frames-sweeper'),
      maximum_retry_attempts: 0,
      maximum_event_age_in_seconds: 300,
    });
  });

  it('may invoke the sweeper only from its own rule', () => {
    const permissions = resourcesOf(stack, 'aws_lambda_permission').filter((p) => p.function_name === functionName('frames-sweeper'));
    expect(permissions).toEqual([
      {
        statement_id: 'AllowSchedule-frames-sweep',
        action: 'lambda:InvokeFunction',
        function_name: functionName('frames-sweeper'),
        principal: 'events.amazonaws.com',
        source_arn: ref(stack, 'aws_cloudwatch_event_rule', (r) => r.name === 'frames-sweep', 'arn'),
      },
    ]);
  });

  it('gives the sweeper its settings through the environment, and is an output', () => {
    const sweeper = theResource(stack, 'aws_lambda_function', (f) => f.function_name === 'frames-sweeper');
    expect(sweeper.environment.variables).toMatchObject({
      JOB_TABLE_NAME: expect.stringContaining('aws_dynamodb_table'),
      FRAME_QUEUE_URL: queueRef('frames-frames', 'url'),
      PIPELINE_NAME: 'frames',
    });
    expect(stack.output.sweeper_function.value).toBe(functionName('frames-sweeper'));
  });
});

describe('the failure queues and the failed-events function', () => {
  it.each(['frames-ingress-failures', 'frames-completion-failures'])('%s hides a message longer than the function runs, and feeds it one at a time, reporting failures item by item', (name) => {
    const queue = theResource(stack, 'aws_sqs_queue', (q) => q.name === name);
    expect(queue.visibility_timeout_seconds).toBe(FAILURE_QUEUE_SETTINGS.visibilityTimeoutSeconds);
    const failedEvents = theResource(stack, 'aws_lambda_function', (f) => f.function_name === 'frames-failed-events');
    expect(failedEvents.timeout).toBe(FAILED_EVENTS_TIMEOUT_SECONDS);
    // Lambda refuses a mapping on a queue whose visibility timeout is below the function's timeout.
    expect(queue.visibility_timeout_seconds).toBeGreaterThanOrEqual(failedEvents.timeout);

    const mapping = theResource(stack, 'aws_lambda_event_source_mapping', (m) => m.event_source_arn === queueRef(name, 'arn'));
    expect(mapping).toMatchObject({
      function_name: ref(stack, 'aws_lambda_function', (f) => f.function_name === 'frames-failed-events', 'arn'),
      batch_size: 1,
      function_response_types: ['ReportBatchItemFailures'],
      scaling_config: { maximum_concurrency: 2 },
      depends_on: [expect.stringContaining('aws_iam_role_policy.failed-events')],
    });
  });

  it('the failed-events function reads and writes runs, consumes both failure queues and announces outcomes, nothing else', () => {
    const tableArn = ref(stack, 'aws_dynamodb_table', () => true, 'arn');
    expect(grantsOf(stack, 'frames-failed-events')).toEqual({
      WriteOwnLogs: { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resource: expect.stringMatching(/:log-group:\/aws\/lambda\/frames-failed-events:\*$/) },
      TrackJobs: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resource: tableArn },
      ConsumeFailedEvents: {
        actions: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
        resource: [queueRef('frames-ingress-failures', 'arn'), queueRef('frames-completion-failures', 'arn')],
      },
      AnnounceOutcomes: expect.objectContaining({ actions: ['events:PutEvents'] }),
    });
    expect(stack.output.failed_events_function.value).toBe(functionName('frames-failed-events'));
  });
});

describe("the sweeper's grants", () => {
  const grants = () => grantsOf(stack, 'frames-sweeper');

  it('may Query its two indexes only (runs by status, pending announcements), never the table', () => {
    const tableArn = ref(stack, 'aws_dynamodb_table', () => true, 'arn');
    expect(grants().FindRunsByStatus).toEqual({ actions: ['dynamodb:Query'], resource: [`${tableArn}/index/ByStatus`, `${tableArn}/index/PendingAnnouncement`] });
    const queries = Object.entries(grants()).filter(([, grant]) => grant.actions.some((action) => /^dynamodb:(Query|Scan|\*)$/.test(action)));
    expect(queries.map(([sid]) => sid)).toEqual(['FindRunsByStatus']);
    expect(grants().TrackJobs).toEqual({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resource: tableArn });
  });

  it("may GetJob only on this pipeline's MediaConvert jobs (their resource tag)", () => {
    expect(grants().ReadOwnJobs).toEqual({
      actions: ['mediaconvert:GetJob'],
      resource: expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\}:mediaconvert:\$\{data\.aws_region\.[^}]+\}:\$\{data\.aws_caller_identity\.[^}]+\}:jobs\/\*$/),
      condition: { StringEquals: { 'aws:ResourceTag/pipeline': 'frames' } },
    });
    expect(grantsOf(custom, 'dashcam-sweeper').ReadOwnJobs.condition).toEqual({ StringEquals: { 'aws:ResourceTag/pipeline': 'dashcam' } });
  });

  it('repairs as the completion function and the fan-in would: list frames, send batches, read batch results, write results', () => {
    const bucketArn = (prefix: string) => ref(stack, 'aws_s3_bucket', (b) => b.bucket_prefix === prefix, 'arn');
    expect(Object.keys(grants()).sort()).toEqual(
      ['AnnounceOutcomes', 'CancelOwnJobs', 'FanOutFrames', 'FindRunsByStatus', 'ListFramesBucket', 'ReadBatchResults', 'ReadOwnJobs', 'TrackJobs', 'WriteOwnLogs', 'WriteResults'],
    );
    expect(grants().FanOutFrames).toEqual({ actions: ['sqs:SendMessage'], resource: queueRef('frames-frames', 'arn') });
    expect(grants().ReadBatchResults).toEqual({ actions: ['s3:GetObject'], resource: `${bucketArn('frames-frames-')}/*/batches/*` });
    expect(grants().ListFramesBucket).toEqual({ actions: ['s3:ListBucket'], resource: bucketArn('frames-frames-') });
    expect(grants().WriteResults).toEqual({ actions: ['s3:AbortMultipartUpload', 's3:PutObject'], resource: `${bucketArn('frames-egress-')}/*` });
  });
});
