import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMPUTE_MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from '../../infra/cdk/constructs/compute-pipeline.ts';
import { PROBE_WRITE_ACTIONS } from '../../infra/cdk/constructs/data-access.ts';
import type { RegionalPceStack } from '../../infra/cdk/stacks/regional-pce-stack.ts';
import { ENV } from '../../shared/runtime/env.ts';
import { globalTableName, leaseTableName, LOCAL_TABLE, localTableName } from '../../shared/storage/tables.ts';
import type { SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { actionsOf, actionsOn, functionLogicalId, replicaArn, statementsOf, statementsOn, type Statement } from './iam-statements.ts';
import { propertiesOfType, resourcesOfType, synthSupercluster, type SynthesizedSupercluster } from './supercluster-fixture.ts';

const FUNCTIONS = ['ApiFunction', 'IdentityFunction', 'StreamRouterFunction', 'StreamFailuresFunction', 'ComputeFunction', 'ScheduledFunction', 'VenChannelFunction'] as const;

let synthesized: SynthesizedSupercluster;
beforeAll(() => {
  synthesized = synthSupercluster();
});

describe('regional PCE stacks', () => {
  it('one per PCE, each in its PCE region, deployed after the global data stack', () => {
    const { stacks, config } = synthesized;
    expect(stacks.regional.map((stack) => stack.region)).toEqual(config.pces.map((pce) => pce.region));
    for (const stack of stacks.regional) expect(stack.dependencies).toContain(stacks.globalData);
  });
});

describe.each(['us-east-1', 'eu-west-1', 'ap-southeast-1'])('regional PCE stack in %s', (region) => {
  let stack: RegionalPceStack;
  let template: Template;
  let config: SuperclusterConfig;

  beforeAll(() => {
    config = synthesized.config;
    const found = synthesized.stacks.regional.find((candidate) => candidate.region === region);
    if (!found) throw new Error(`no regional stack for ${region}`);
    stack = found;
    template = Template.fromStack(stack);
  });

  it('runs the seven PCE functions on nodejs24.x, arm64, with active tracing and the runtime environment', () => {
    for (const id of FUNCTIONS) functionLogicalId(template, id);
    const functions = propertiesOfType(template, 'AWS::Lambda::Function').filter((fn) => fn.Handler === 'index.handler' && fn.Environment);
    expect(functions).toHaveLength(FUNCTIONS.length);
    for (const fn of functions) {
      expect(fn).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: expect.anything() },
      });
      const variables = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables[ENV.globalTable]).toBe(globalTableName(config));
      expect(variables[ENV.localTable]).toBe(localTableName(config, region));
      expect(JSON.parse(variables[ENV.config] as string)).toEqual(config);
      expect(variables).not.toHaveProperty(ENV.region);
    }
  });

  it('gives each function a log group with retention', () => {
    const logGroups = propertiesOfType(template, 'AWS::Logs::LogGroup');
    expect(logGroups.length).toBeGreaterThanOrEqual(4);
    for (const logGroup of logGroups) expect(logGroup.RetentionInDays).toBe(30);
  });

  it('only the stream router, the stream-failures and the scheduled function (send jobs) and the compute consumer (shortens retries) get the compute queue URL', () => {
    const fns = resourcesOfType(template, 'AWS::Lambda::Function');
    for (const id of FUNCTIONS) {
      const variables = (fns[functionLogicalId(template, id)]?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      if (id === 'StreamRouterFunction' || id === 'StreamFailuresFunction' || id === 'ComputeFunction' || id === 'ScheduledFunction') expect(variables[ENV.computeQueueUrl]).toEqual({ Ref: expect.stringMatching(/^ComputePipelineQueue/) });
      else expect(variables).not.toHaveProperty(ENV.computeQueueUrl);
    }
  });

  it('has a local table with the shared keys, TTL and PITR, and no replica elsewhere', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: localTableName(config, region),
      KeySchema: [
        { AttributeName: LOCAL_TABLE.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: LOCAL_TABLE.sortKey.name, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: LOCAL_TABLE.timeToLiveAttribute, Enabled: true },
      Replicas: [Match.objectLike({ Region: region, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
  });

  it('alarms on DLQ jobs, compute errors, a late stream router, slow replication to each peer and API 5xx, to one SSL-only topic', () => {
    const alarms = propertiesOfType(template, 'AWS::CloudWatch::Alarm');
    const byMetric = (name: string) => alarms.filter((a) => a.MetricName === name);
    // the compute DLQ and the replica stream's failure queue (least-privilege.test.ts)
    expect(byMetric('ApproximateNumberOfMessagesVisible')).toEqual([
      expect.objectContaining({ Threshold: 1, Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^ComputePipelineDeadLetterQueue/), 'QueueName'] } }] }),
      expect.objectContaining({ Threshold: 1, Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^ReplicaStreamFailureQueue/), 'QueueName'] } }] }),
    ]);
    expect(byMetric('Errors')).toEqual([expect.objectContaining({ Threshold: 1, Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(template, 'ComputeFunction') } }] })]);
    expect(byMetric('IteratorAge')).toEqual([expect.objectContaining({ Threshold: 60_000, Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(template, 'StreamRouterFunction') } }] })]);
    expect(byMetric('5xx')).toHaveLength(1);
    const replication = byMetric('ReplicationLatency');
    const peers = config.pces.filter((p) => p.region !== region).map((p) => p.region).sort();
    expect(replication.map((a) => (a.Dimensions as { Name: string; Value: string }[]).find((d) => d.Name === 'ReceivingRegion')?.Value).sort()).toEqual(peers);
    for (const a of replication) expect(a).toMatchObject({ Threshold: 30_000, Dimensions: expect.arrayContaining([{ Name: 'TableName', Value: globalTableName(config) }]) });
    const topic = Object.keys(resourcesOfType(template, 'AWS::SNS::Topic'));
    expect(topic).toHaveLength(1);
    for (const a of alarms) {
      expect(a.AlarmActions).toEqual([{ Ref: topic[0] }]);
      expect(a.TreatMissingData).toBe('notBreaching');
    }
    template.hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
    template.hasOutput('AlarmTopicArn', {});
  });

  it('has the compute queue with a DLQ redrive, SSE, and a visibility timeout of at least 6x the compute timeout', () => {
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    const computeQueue = Object.entries(queues).find(([id]) => id.startsWith('ComputePipelineQueue'))?.[1];
    const dlqId = Object.keys(queues).find((id) => id.startsWith('ComputePipelineDeadLetterQueue'));
    expect(computeQueue?.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: COMPUTE_MAX_RECEIVE_COUNT,
    });
    const compute = resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(template, 'ComputeFunction')];
    expect(computeQueue?.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(VISIBILITY_TIMEOUT_FACTOR * (compute?.Properties.Timeout as number));
    for (const queue of Object.values(queues)) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
  });

  it('makes the compute queue and its DLQ FIFO queues, named by CloudFormation (.fifo)', () => {
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    const computeQueues = Object.entries(queues).filter(([id]) => id.startsWith('ComputePipeline'));
    expect(computeQueues.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['ComputePipelineDeadLetterQueue', 'ComputePipelineQueue']);
    for (const [, queue] of computeQueues) {
      expect(queue.Properties.FifoQueue).toBe(true);
      // no explicit name: CloudFormation generates one ending in .fifo
      expect(queue.Properties.QueueName).toBeUndefined();
      // the router sets a deduplication id per job
      expect(queue.Properties.ContentBasedDeduplication).toBeUndefined();
    }
  });

  it('enforces TLS on every queue', () => {
    const policies = propertiesOfType(template, 'AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(Object.keys(resourcesOfType(template, 'AWS::SQS::Queue')).length);
    for (const policy of policies) {
      expect(policy.PolicyDocument).toMatchObject({
        Statement: expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      });
    }
  });

  it('feeds the compute function from the queue with partial batch failures, in FIFO batches of at most 10', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionLogicalId(template, 'ComputeFunction') },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ComputePipelineQueue'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const [mapping] = propertiesOfType(template, 'AWS::Lambda::EventSourceMapping').filter(
      (m) => JSON.stringify(m.FunctionName) === JSON.stringify({ Ref: functionLogicalId(template, 'ComputeFunction') }),
    );
    expect(mapping?.BatchSize).toBeGreaterThanOrEqual(1);
    expect(mapping?.BatchSize).toBeLessThanOrEqual(10);
    // a batching window is not allowed on a FIFO queue
    expect(mapping?.MaximumBatchingWindowInSeconds).toBeUndefined();
  });

  it("reads the replica's stream ARN with a DescribeTable custom resource in this region", () => {
    const [resource] = propertiesOfType(template, 'Custom::AWS');
    const create = JSON.parse(resource?.Create as string);
    expect(create).toMatchObject({
      service: 'DynamoDB',
      action: 'DescribeTable',
      parameters: { TableName: globalTableName(config) },
      region,
      outputPaths: ['Table.LatestStreamArn'],
    });
    expect(JSON.parse(resource?.Update as string)).toEqual(create);
    const providerPolicy = propertiesOfType(template, 'AWS::IAM::Policy').find((policy) =>
      JSON.stringify(policy.PolicyDocument).includes('dynamodb:DescribeTable') && JSON.stringify(policy.PolicyName).includes('CustomResourcePolicy'),
    );
    expect((providerPolicy?.PolicyDocument as { Statement: Statement[] }).Statement).toEqual([
      { Action: 'dynamodb:DescribeTable', Effect: 'Allow', Resource: replicaArn(config, region) },
    ]);
  });

  it('routes the replica stream to the stream router: partial failures, bisect, bounded retries, SQS on-failure destination', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionLogicalId(template, 'StreamRouterFunction') },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GlobalReplicaDescribeTable'), 'Table.LatestStreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: Match.anyValue(),
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicaStreamFailureQueue'), 'Arn'] } } },
    });
  });

  it('runs the scheduled function every minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionLogicalId(template, 'ScheduledFunction'), 'Arn'] } })],
    });
  });

  it('invokes the scheduled function hourly with the reconcile task', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionLogicalId(template, 'ScheduledFunction'), 'Arn'] }, Input: JSON.stringify({ task: 'reconcile' }) })],
    });
  });

  it('invokes the scheduled function every minute with the VEN sweep task (offline detection)', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionLogicalId(template, 'ScheduledFunction'), 'Arn'] }, Input: JSON.stringify({ task: 'sweep' }) })],
    });
  });

  it('has the scheduled function write probes at the configured interval within each minute', () => {
    const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(template, 'ScheduledFunction')];
    const variables = (fn?.Properties.Environment as { Variables: Record<string, string> }).Variables;
    // default config: a probe every 5 s -> 9 probes per per-minute invocation (the last starts at 40 s, within the 50 s timeout)
    expect(variables[ENV.probesPerInvocation]).toBe('9');
  });

  it('serves the api function on ANY / and ANY /{proxy+} (and the identity and health routes: least-privilege.test.ts) with access logs on the $default stage', () => {
    const httpApi = Object.keys(resourcesOfType(template, 'AWS::ApiGatewayV2::Api')).find((id) => id.startsWith('RegionalApiHttpApi'));
    const routes = propertiesOfType(template, 'AWS::ApiGatewayV2::Route')
      .filter((route) => JSON.stringify(route.ApiId) === JSON.stringify({ Ref: httpApi }))
      .map((route) => route.RouteKey);
    expect(routes).toEqual(expect.arrayContaining(['ANY /', 'ANY /{proxy+}']));
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::GetAtt': [functionLogicalId(template, 'ApiFunction'), 'Arn'] },
      PayloadFormatVersion: '2.0',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('\\$context.requestId') },
    });
  });

  it('has a DNS-validated certificate and custom domains for the PCE, supercluster and leader FQDNs', () => {
    const pce = config.pces.find((candidate) => candidate.region === region);
    const names = [pce?.fqdn, config.supercluster_fqdn, config.leader_fqdn];
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: pce?.fqdn,
      SubjectAlternativeNames: [config.supercluster_fqdn, config.leader_fqdn],
      ValidationMethod: 'DNS',
      DomainValidationOptions: names.map((name) => ({ DomainName: name, HostedZoneId: config.hosted_zone.id })),
    });
    const domains = propertiesOfType(template, 'AWS::ApiGatewayV2::DomainName');
    expect(domains.map((domain) => domain.DomainName).sort()).toEqual([...names].sort());
    for (const domain of domains) {
      expect(domain.DomainNameConfigurations).toEqual([
        expect.objectContaining({ EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }),
      ]);
    }
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 3);
  });

  it("owns the A-alias record of the PCE's own FQDN, pointing at its regional custom domain", () => {
    const pce = config.pces.find((candidate) => candidate.region === region);
    template.resourceCountIs('AWS::Route53::RecordSet', 1);
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: `${pce?.fqdn}.`,
      Type: 'A',
      HostedZoneId: config.hosted_zone.id,
      AliasTarget: {
        DNSName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RegionalApiPceDomain'), 'RegionalDomainName'] },
        HostedZoneId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RegionalApiPceDomain'), 'RegionalHostedZoneId'] },
      },
    });
  });

  it('has no cross-stack references, and names other regions only to consume pairing keys there (GetItem/UpdateItem of PAIRING_KEY#*), to hold the leader lease (leader-lease.test.ts) or to deny the control partitions (least-privilege.test.ts)', () => {
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toContain('Fn::ImportValue');
    const others = config.pces.filter((pce) => pce.region !== region);
    const crossRegion = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      ((p as { Properties: { PolicyDocument: { Statement: { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown }[] } } }).Properties.PolicyDocument.Statement).filter((st) =>
        st.Effect === 'Allow' && others.some((o) => JSON.stringify(st.Resource).includes(`:dynamodb:${o.region}:`)) && !JSON.stringify(st.Resource).includes(`:table/${leaseTableName(config)}`),
      ),
    );
    expect(crossRegion.length).toBeGreaterThan(0);
    for (const st of crossRegion) {
      expect([st.Action].flat().sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      expect(st.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['PAIRING_KEY#*'] } });
    }
    // and nowhere else
    const withoutPolicies = { ...template.toJSON(), Resources: Object.fromEntries(Object.entries(template.toJSON().Resources as Record<string, { Type: string }>).filter(([, r]) => r.Type !== 'AWS::IAM::Policy')) };
    for (const other of others) expect(JSON.stringify(withoutPolicies)).not.toContain(`:dynamodb:${other.region}:`);
  });

  describe('least privilege', () => {
    it('no function holds a wildcard action or any table/stream management action', () => {
      for (const id of FUNCTIONS) {
        const actions = statementsOf(template, id).flatMap(actionsOf);
        expect(actions.filter((action) => action.includes('*')), id).toEqual([]);
        expect(actions.filter((action) => /^dynamodb:(Create|Delete|Update)(Table|GlobalTable)|^dynamodb:(Restore|Export|Import)/.test(action)), id).toEqual([]);
        // execute-api: only the VEN channel's ManageConnections (ven-channel.test.ts checks who holds it, on what)
        expect(actions.filter((action) => !/^(dynamodb|sqs|logs|xray):/.test(action) && action !== 'execute-api:ManageConnections'), id).toEqual([]);
      }
    });

    it("grants only Resource '*' to actions that cannot be scoped (X-Ray, ListStreams)", () => {
      for (const id of FUNCTIONS) {
        const unscoped = statementsOf(template, id).filter((statement) => statement.Resource === '*').flatMap(actionsOf);
        expect(unscoped.every((action) => ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'dynamodb:ListStreams'].includes(action)), `${id}: ${unscoped.join(', ')}`).toBe(true);
      }
    });

    it('compute reads the global replica, reads/writes the local table, consumes its queue, sends only to its DLQ, and cannot delete tables', () => {
      const statements = statementsOf(template, 'ComputeFunction');
      const onGlobal = actionsOn(statements, replicaArn(config, region));
      expect(onGlobal).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
      expect(statementsOn(statements, replicaArn(config, region)).filter((st) => st.Effect === 'Allow').flatMap(actionsOf).filter((action) => /PutItem|UpdateItem|DeleteItem|BatchWriteItem/.test(action))).toEqual([]);
      const actions = statements.flatMap(actionsOf);
      expect(actions).toContain('sqs:ReceiveMessage');
      expect(actions).toContain('sqs:DeleteMessage');
      expect(actions).not.toContain('dynamodb:DeleteTable');
      // jobs that are not a ComputeJobV1 go straight to the DLQ; nothing else may be sent anywhere
      const sends = statements.filter((st) => actionsOf(st).includes('sqs:SendMessage'));
      expect(sends).toHaveLength(1);
      expect(JSON.stringify(sends[0]?.Resource)).toMatch(/ComputePipelineDeadLetterQueue/);
      const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(template, 'ComputeFunction')];
      expect((fn?.Properties.Environment as { Variables: Record<string, unknown> }).Variables[ENV.computeDlqUrl]).toEqual({ Ref: expect.stringMatching(/^ComputePipelineDeadLetterQueue/) });
    });

    it('scheduled writes the global replica only in the probe and workload partitions (status, VEN sweep), and sends reconcile jobs', () => {
      const statements = statementsOf(template, 'ScheduledFunction');
      const writes = statements.filter((st) => st.Effect === 'Allow' && JSON.stringify(st.Resource) === JSON.stringify(replicaArn(config, region)) && actionsOf(st).some((a) => /PutItem|UpdateItem|DeleteItem|BatchWriteItem/.test(a)));
      expect(writes.map((st) => st.Condition)).toEqual([{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['PCE_STATUS', 'ORG#*#WORKLOADS', 'ORG#*#LABEL_USE#*'] } }]);
      expect(writes.flatMap(actionsOf).sort()).toEqual([...PROBE_WRITE_ACTIONS, 'dynamodb:DeleteItem'].sort());
      const sqsStatements = statements.filter((statement) => actionsOf(statement).some((action) => action.startsWith('sqs:')));
      expect(sqsStatements.flatMap(actionsOf)).toContain('sqs:SendMessage');
      expect(sqsStatements.flatMap(actionsOf)).not.toContain('sqs:ReceiveMessage');
      expect(sqsStatements.flatMap(actionsOf)).not.toContain('sqs:DeleteMessage');
      for (const st of sqsStatements) expect(JSON.stringify(st.Resource)).toMatch(/ComputePipelineQueue/);
    });

    it('api reads the global replica (no Scan), writes it only by partition, reads/writes the local table, and may only read the DLQ depth', () => {
      const statements = statementsOf(template, 'ApiFunction');
      const onReplica = actionsOn(statements, replicaArn(config, region));
      expect(onReplica).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']));
      expect(onReplica).not.toContain('dynamodb:Scan');
      // the GSLB switch route Queries GSLB_SWITCH#<pce> of this replica: a read not limited to some partitions
      const replica = JSON.stringify(replicaArn(config, region));
      const reads = statements.filter((st) => [st.Resource].flat().some((r) => JSON.stringify(r) === replica) && actionsOf(st).includes('dynamodb:Query'));
      expect(reads.some((st) => st.Condition === undefined)).toBe(true);
      // every write to the replica carries a LeadingKeys condition (least-privilege.test.ts asserts which)
      for (const st of statements.filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource) === replica && actionsOf(s).some((a) => /PutItem|UpdateItem|DeleteItem|BatchWriteItem/.test(a)))) expect(st.Condition).toBeDefined();
      expect(actionsOn(statements, { 'Fn::GetAtt': [Object.keys(resourcesOfType(template, 'AWS::DynamoDB::GlobalTable'))[0], 'Arn'] })).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem']),
      );
      const sqsStatements = statements.filter((statement) => actionsOf(statement).some((action) => action.startsWith('sqs:')));
      expect(sqsStatements.flatMap(actionsOf)).toEqual(['sqs:GetQueueAttributes']);
      expect(JSON.stringify(sqsStatements[0]?.Resource)).toContain('DeadLetterQueue');
    });

    it('stream router reads the stream and the global replica, writes there only workload items and VEN credentials (clean-up after a move or unpair), and sends to the compute queue', () => {
      const statements = statementsOf(template, 'StreamRouterFunction');
      const actions = statements.flatMap(actionsOf);
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'sqs:SendMessage']));
      const writes = statements.filter((st) => st.Effect === 'Allow' && JSON.stringify(st.Resource) === JSON.stringify(replicaArn(config, region)) && actionsOf(st).some((a) => /PutItem|UpdateItem|DeleteItem|BatchWriteItem/.test(a)));
      expect(writes.map((st) => st.Condition)).toEqual([{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ORG#*#WORKLOADS', 'ORG#*#LABEL_USE#*', 'VEN#*'] } }]);
      expect(writes.flatMap(actionsOf)).not.toContain('dynamodb:BatchWriteItem');
      const sendTargets = statements
        .filter((statement) => actionsOf(statement).includes('sqs:SendMessage'))
        .map((statement) => JSON.stringify(statement.Resource));
      // Jobs to the compute queue; failed stream batches to the event source's on-failure queue.
      expect(sendTargets).toHaveLength(2);
      expect(sendTargets.some((target) => target.includes('ReplicaStreamFailureQueue'))).toBe(true);
      expect(sendTargets.some((target) => target.includes('ComputePipelineQueue'))).toBe(true);
      expect(sendTargets.some((target) => target.includes('ComputePipelineDeadLetterQueue'))).toBe(false);
    });
  });
});
