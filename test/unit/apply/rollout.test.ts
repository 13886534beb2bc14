import { podTrouble, rolloutStatus } from '../../../src/apply/rollout';

const deploy = (status: Record<string, unknown>, replicas = 3) => ({ spec: { replicas }, status });

describe('rolloutStatus', () => {
  it('waits for the controller to observe the new generation', () => {
    expect(
      rolloutStatus(
        'Deployment',
        deploy({ observedGeneration: 4, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
        5,
      ),
    ).toEqual({
      phase: 'progressing',
      summary: 'waiting for the Deployment controller to pick up the change (generation 5)',
    });
  });

  it('follows a Deployment to the end', () => {
    expect(
      rolloutStatus(
        'Deployment',
        deploy({ observedGeneration: 5, updatedReplicas: 1, replicas: 4, availableReplicas: 3 }),
        5,
      ).summary,
    ).toBe('1 of 3 pods updated');
    expect(
      rolloutStatus(
        'Deployment',
        deploy({ observedGeneration: 5, updatedReplicas: 3, replicas: 4, availableReplicas: 3 }),
        5,
      ).summary,
    ).toBe('3 of 3 pods updated; 1 old pod still terminating');
    expect(
      rolloutStatus(
        'Deployment',
        deploy({ observedGeneration: 5, updatedReplicas: 3, replicas: 3, availableReplicas: 2 }),
        5,
      ).summary,
    ).toBe('2 of 3 updated pods available');
    expect(
      rolloutStatus(
        'Deployment',
        deploy({ observedGeneration: 5, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
        5,
      ),
    ).toEqual({ phase: 'complete', summary: 'rolled out: 3 of 3 pods updated and available' });
  });

  it('says why a Deployment is stuck', () => {
    const stuck = deploy({
      observedGeneration: 5,
      updatedReplicas: 1,
      replicas: 3,
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: 'ReplicaSet "ledger-5d" has timed out progressing.',
        },
      ],
    });
    expect(rolloutStatus('Deployment', stuck, 5)).toEqual({
      phase: 'stuck',
      summary: 'stuck: ReplicaSet "ledger-5d" has timed out progressing.',
    });
    const quota = deploy({
      observedGeneration: 5,
      conditions: [
        {
          type: 'ReplicaFailure',
          status: 'True',
          reason: 'FailedCreate',
          message: 'pods "ledger-5d-x" is forbidden: exceeded quota: team-quota',
        },
      ],
    });
    expect(rolloutStatus('Deployment', quota, 5).summary).toContain('exceeded quota');
  });

  it('handles StatefulSets, DaemonSets and CronJobs', () => {
    expect(
      rolloutStatus(
        'StatefulSet',
        {
          spec: { replicas: 2 },
          status: {
            observedGeneration: 2,
            updatedReplicas: 2,
            readyReplicas: 2,
            currentRevision: 'a',
            updateRevision: 'a',
          },
        },
        2,
      ).phase,
    ).toBe('complete');
    expect(
      rolloutStatus(
        'StatefulSet',
        { spec: { replicas: 2 }, status: { observedGeneration: 2, updatedReplicas: 1, readyReplicas: 2 } },
        2,
      ).summary,
    ).toBe('1 of 2 pods updated');
    expect(
      rolloutStatus(
        'DaemonSet',
        {
          status: {
            observedGeneration: 3,
            desiredNumberScheduled: 5,
            updatedNumberScheduled: 5,
            numberAvailable: 4,
          },
        },
        3,
      ).summary,
    ).toBe('4 of 5 updated pods available');
    expect(rolloutStatus('CronJob', { spec: { schedule: '*/30 * * * *' } }, 7)).toEqual({
      phase: 'complete',
      summary:
        'the next run (schedule */30 * * * *) takes the new values; a Job already running keeps the old ones.',
    });
  });
});

describe('podTrouble', () => {
  const now = Date.parse('2026-01-10T10:00:00Z');
  it("names a new pod's crash loop, an unschedulable pod, or a new OOM kill; ignores old pods", () => {
    const old = {
      metadata: { name: 'old', creationTimestamp: '2026-01-09T10:00:00Z' },
      status: { containerStatuses: [{ name: 'api', state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
    };
    const crash = {
      metadata: { name: 'new-1', creationTimestamp: '2026-01-10T10:00:05Z' },
      status: {
        containerStatuses: [
          {
            name: 'api',
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { reason: 'Error' } },
          },
        ],
      },
    };
    const pending = {
      metadata: { name: 'new-2', creationTimestamp: '2026-01-10T10:00:05Z' },
      status: {
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient memory.',
          },
        ],
      },
    };
    expect(podTrouble([old], now)).toBeNull();
    expect(podTrouble([old, crash], now)).toBe(
      'pod new-1, container api: CrashLoopBackOff (last exit: Error)',
    );
    expect(podTrouble([pending], now)).toBe(
      'pod new-2 cannot be scheduled: 0/3 nodes are available: 3 Insufficient memory.',
    );
  });
});
