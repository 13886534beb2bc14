// gatherEvidence joins what the adapters read: here, that a variable fed by the Downward API's
// limits.memory in a container without a memory limit reads the node's allocatable memory (what the
// kubelet gives it), which only the node object knows. Without the node it stays unknown.
import type { ClusterReader } from '../../../src/adapters/kubernetes';
import type { ApiObject } from '../../../src/core/kubernetes-types';
import { gatherEvidence } from '../../../src/diagnose';

const MiB = 2 ** 20;

const pod: ApiObject = {
  kind: 'Pod',
  metadata: { name: 'api-1', namespace: 'shop', uid: 'u1' },
  spec: {
    nodeName: 'node-a',
    containers: [
      {
        name: 'api',
        image: 'api:1',
        command: ['java', '-Xmx$(HEAP)m', '-jar', 'app.jar'],
        env: [
          { name: 'HEAP', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        ],
      },
    ],
  },
  status: { containerStatuses: [{ name: 'api', restartCount: 0, state: { running: {} } }] },
};

function cluster(node: ApiObject | null): ClusterReader {
  const none = async () => [];
  return {
    description: 'test',
    readPod: async () => pod,
    listPods: none,
    listPodsAllNamespaces: none,
    podEvents: none,
    nodeEvents: none,
    readNode: async () => {
      if (!node) throw new Error('nodes "node-a" is forbidden');
      return node;
    },
    readWorkload: async () => null,
    readConfigMap: async () => null,
    listLimitRanges: none,
    listResourceQuotas: none,
    podMetrics: async () => ({ containers: [{ name: 'api', usage: { memory: '100Mi' } }] }),
  };
}

const request = { target: { kind: 'pod' as const, namespace: 'shop', pod: 'api-1' }, windowMs: 3_600_000 };
const heapVar = async (node: ApiObject | null) => {
  const evidence = await gatherEvidence(request, { cluster: cluster(node), metrics: null });
  return evidence.pod.containers.find((c) => c.name === 'api')?.env.find((e) => e.name === 'HEAP');
};

it("limits.memory without a limit reads the node's allocatable memory, in the divisor's units", async () => {
  const node = { kind: 'Node', metadata: { name: 'node-a' }, status: { allocatable: { memory: '8Gi' } } };
  expect((await heapVar(node))?.value).toBe(String((8 * 1024 * MiB) / MiB));
});

it('without the node the value stays unknown rather than guessed', async () => {
  const heap = await heapVar(null);
  expect(heap?.value).not.toBe(String(8 * 1024));
  expect(heap?.value ?? '').not.toMatch(/^\d+$/);
});
