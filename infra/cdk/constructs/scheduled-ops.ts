/**
 * Runs the scheduled operations function of a PCE: the replication probe (status item) every minute,
 * every minute the VEN sweep (offline detection), and every hour the reconcile task, which queues a full, compare-before-write recompute of the PCE's
 * workloads (lambdas/scheduled.ts).
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { RECONCILE_INTERVAL_MINUTES } from '../../../shared/compute/jobs.ts';
import { VEN_SWEEP_INTERVAL_SECONDS } from '../../../shared/ven/ven-service.ts';

export interface ScheduledOpsProps {
  readonly handler: lambda.IFunction;
  /** @default Duration.minutes(1) */
  readonly every?: Duration;
  /** @default RECONCILE_INTERVAL_MINUTES (shared with the local cloud) */
  readonly reconcileEvery?: Duration;
}

export class ScheduledOps extends Construct {
  readonly rule: events.Rule;
  readonly reconcileRule: events.Rule;
  readonly sweepRule: events.Rule;

  constructor(scope: Construct, id: string, props: ScheduledOpsProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'PCE scheduled operations: replication probe and status',
      schedule: events.Schedule.rate(props.every ?? Duration.minutes(1)),
    });
    // A missed minute is replaced by the next one: no retries pile up behind a slow run.
    this.rule.addTarget(new targets.LambdaFunction(props.handler, { retryAttempts: 0, maxEventAge: Duration.minutes(1) }));
    this.reconcileRule = new events.Rule(this, 'Reconcile', {
      description: 'PCE anti-entropy: queue a reconcile job (recompute every managed workload, finish open slices)',
      schedule: events.Schedule.rate(props.reconcileEvery ?? Duration.minutes(RECONCILE_INTERVAL_MINUTES)),
    });
    this.reconcileRule.addTarget(
      new targets.LambdaFunction(props.handler, { event: events.RuleTargetInput.fromObject({ task: 'reconcile' }), retryAttempts: 2, maxEventAge: Duration.minutes(30) }),
    );
    this.sweepRule = new events.Rule(this, 'VenSweep', {
      description: 'PCE VEN offline detection: mark offline the VENs that stopped heartbeating (workload settings timers)',
      schedule: events.Schedule.rate(Duration.seconds(VEN_SWEEP_INTERVAL_SECONDS)),
    });
    this.sweepRule.addTarget(new targets.LambdaFunction(props.handler, { event: events.RuleTargetInput.fromObject({ task: 'sweep' }), retryAttempts: 0, maxEventAge: Duration.minutes(1) }));
  }
}
