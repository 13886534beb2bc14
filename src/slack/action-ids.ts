// What the bot's buttons carry: the action ids its interactivity handlers listen for, and the one
// encoding of the Re-run button's value (handlers/slack-actions.ts parses it back with zod).

/** Action ids the bot's interactivity handlers listen for. */
export const ACTION_IDS = {
  rerun: 'oom_rerun',
  apply: 'oom_apply',
  /** `oom_pick_pod_<i>`: match with /^oom_pick_pod_\d+$/. */
  pickPodPrefix: 'oom_pick_pod_',
} as const;

/** The Re-run button's value: the target as JSON, well under Slack's 2,000 characters for names Kubernetes allows. */
export function rerunValue(target: { namespace: string; pod: string; container: string }): string {
  return JSON.stringify({ namespace: target.namespace, pod: target.pod, container: target.container });
}
