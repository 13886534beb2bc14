// A failed job in words, for the person watching the thread: what went wrong and what to do. Reads
// the error vocabulary's code, never the class.
import { asOomdoctorError } from '../src/core/errors';

export function failureInWords(error: unknown): string {
  const e = asOomdoctorError(error);
  switch (e.code) {
    case 'not-found':
      return `${e.message}. The pod may have been replaced since the alert fired: try its workload, e.g. /oom <namespace>/deploy/<name>.`;
    case 'kube-forbidden':
      return `the Kubernetes API refused: ${e.message}. The bot's RBAC role needs that permission (deploy/kubernetes/rbac.yaml grants what diagnosing needs).`;
    case 'kube-unauthorized':
      return `${e.sentence}. The Kubernetes API did not accept the bot's credentials: check its kubeconfig user or ServiceAccount token.`;
    case 'kube-unreachable':
      return `${e.sentence}. Retried several times; check the bot's kubeconfig (KUBECONFIG) or its in-cluster access.`;
    case 'internal':
      return `an unexpected error: ${e.message} (this is a bug: please report it with the bot's logs)`;
    default:
      return e.sentence;
  }
}

/** A job bull gave up on because the workers running it kept stopping (stalled too many times). */
export function stalledJobInWords(reason: string): string {
  return `the worker running it stopped or froze mid-job more than twice, so it was given up (${reason}). Check the oomdoctor worker pods for restarts and OOM kills (kubectl describe pod), then try again`;
}

/** A job whose stored data this version cannot read: queued by another version of oomdoctor. */
export function unreadableJobInWords(problem: string): string {
  return `the queued job could not be read by this version of oomdoctor (${problem}); it was probably queued by another version during an upgrade: try again once every oomdoctor process runs the same version`;
}
