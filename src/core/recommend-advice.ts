// Advice no resource change gives: how to find a leak, tame bursts, notice a killed child process.
import { leakRate, limitInForce } from './classify';
import { formatDuration } from './duration';
import { formatBytes } from './quantity';
import { HOUR_MS as HOUR } from './time';
import type { Classification, ContainerSpecEvidence, Evidence } from './types';

export function causeAdvice(
  evidence: Evidence,
  classification: Classification,
  spec: ContainerSpecEvidence,
  newLimit: number | null,
): string[] {
  const notes: string[] = [];
  const top = classification.causes[0];
  // Leak advice only where the leak is the leading story, not a shadow of an oversized heap.
  const leak = classification.causes.find((c) => c.id === 'memory-leak');
  if (leak && (top?.id === 'memory-leak' || leak.confidence >= 0.6))
    notes.push(...leakAdvice(evidence, spec, newLimit));
  if (classification.causes.some((c) => c.id === 'burst-allocation')) {
    notes.push(
      'Bursts: stream large payloads instead of buffering them, cap request body sizes and per-request concurrency, and bound queue depths.',
    );
  }
  if (classification.verdict === 'child-process-oom') {
    notes.push(
      'Find which process was killed (the node\'s kernel log: dmesg -T | grep -i "memory cgroup"), and make the main process notice a dead worker, or it will limp along half-broken.',
    );
  }
  return notes;
}

function leakAdvice(evidence: Evidence, spec: ContainerSpecEvidence, newLimit: number | null): string[] {
  const runtimes = new Set(spec.runtime.map((r) => r.runtime));
  const profiler = runtimes.has('jvm')
    ? 'take heap dumps a few hours apart (jcmd 1 GC.heap_dump /tmp/heap.hprof) and compare them in Eclipse MAT'
    : runtimes.has('go')
      ? 'compare pprof heap profiles a few hours apart (go tool pprof -diff_base old.pb.gz new.pb.gz, from /debug/pprof/heap)'
      : runtimes.has('node')
        ? 'compare heap snapshots a few hours apart (node --heapsnapshot-signal=SIGUSR2, then the Chrome DevTools Memory tab)'
        : "profile the heap with your runtime's tool (pprof for Go, heap dumps for the JVM, tracemalloc for Python, heap snapshots for Node.js)";
  const { namespace, pod, container } = evidence.target;
  const selector = `namespace="${namespace}", pod=~"${podPrefix(evidence, pod)}.*", container="${container}"`;
  const lines = [
    `A leak: raising the limit only reschedules the kill. To find it, ${profiler}.`,
    `Alert on the slope, not the level: predict_linear(container_memory_working_set_bytes{${selector}}[6h], 4 * 3600) > ${newLimit ?? 'the limit'}`,
  ];
  const rate = leakRate(evidence);
  const limit = limitInForce(evidence);
  if (rate && newLimit && limit && newLimit > limit) {
    lines.push(
      `At about ${formatBytes(rate * HOUR)} per hour, the new limit buys roughly ${formatDuration((newLimit - limit) / rate)} more between kills.`,
    );
  }
  return lines;
}

function podPrefix(evidence: Evidence, pod: string): string {
  const workload = evidence.workload;
  if (
    workload &&
    (workload.kind === 'Deployment' || workload.kind === 'StatefulSet' || workload.kind === 'DaemonSet')
  )
    return `${workload.name}-`;
  return pod;
}
