// The runtime's own memory budget (JVM heap, GOMEMLIMIT, Node's old space) made to fit a limit,
// written back to the place the setting lives.
import { formatBytes } from './quantity';
import { RECOMMEND_THRESHOLDS as T } from './recommend-thresholds';
import { formatGoMemLimit, formatJvmHeap, formatNodeOldSpace, rewriteFlag } from './runtime-settings';
import type { ContainerSpecEvidence, RuntimeSetting } from './types';

const MIB = 2 ** 20;

export interface RuntimeFix {
  env: Array<{ name: string; value: string }>;
  args: string[] | null;
}

function desiredValue(setting: RuntimeSetting, limit: number): { flag: string; bytes: number } | null {
  switch (setting.setting) {
    case 'Xmx':
    case 'MaxHeapSize': {
      if ((setting.bytes ?? 0) <= T.jvmHeapMaxShare * limit) return null;
      const bytes = Math.floor((T.jvmHeapShare * limit) / (T.heapStepMiB * MIB)) * T.heapStepMiB * MIB;
      return { flag: formatJvmHeap(bytes), bytes };
    }
    case 'MaxRAMPercentage':
    case 'MaxRAMFraction': {
      if ((setting.percent ?? 0) <= T.jvmRamPercentageMax) return null;
      const percentage = setting.setting === 'MaxRAMPercentage';
      const flag = percentage ? T.jvmRamPercentageFix : T.jvmRamFractionFix;
      return { flag, bytes: percentage ? (Number(flag) / 100) * limit : limit / Number(flag) };
    }
    case 'GOMEMLIMIT': {
      if ((setting.bytes ?? 0) <= T.goMemLimitMaxShare * limit) return null;
      const step = T.goMemLimitStepMiB * MIB;
      const bytes = Math.floor((T.goMemLimitShare * limit) / step) * step;
      return { flag: formatGoMemLimit(bytes), bytes };
    }
    case 'max-old-space-size': {
      if ((setting.bytes ?? 0) <= T.nodeOldSpaceMaxShare * limit) return null;
      const step = T.heapStepMiB * MIB;
      const bytes = Math.floor((T.nodeOldSpaceShare * limit) / step) * step;
      return { flag: formatNodeOldSpace(bytes), bytes };
    }
  }
}

const MEMORY_TOKEN =
  /^(-Xmx\S+|-Xms\S+|-XX:(Max|Initial|Min)RAM(Percentage|Fraction)=\S+|-XX:MaxHeapSize=\S+|--max[-_]old[-_]space[-_]size=\S+)$/;

export function runtimeFix(spec: ContainerSpecEvidence, limit: number, notes: string[]): RuntimeFix {
  const env: RuntimeFix['env'] = [];
  let args: string[] | null = null;
  for (const setting of spec.runtime) {
    const desired = desiredValue(setting, limit);
    if (!desired) continue;
    const after = afterText(setting, desired.flag);
    const why = `${setting.value} (${setting.source}) gives the runtime ${formatBytes(setting.bytes ?? ((setting.percent ?? 0) * limit) / 100)} of a ${formatBytes(limit)} limit; ${after} leaves room for what is not heap`;
    const location = setting.location;
    if (location.kind === 'args') {
      args ??= [...spec.args];
      args[location.index] = rewriteFlag(args[location.index] ?? '', setting.setting, desired.flag);
      notes.push(`${why}: the patch changes args[${location.index}].`);
    } else if (location.kind === 'command') {
      notes.push(
        `${why}: the flag is in the container's command (command[${location.index}]); change it there to ${after}.`,
      );
    } else if (location.kind === 'env-configmap') {
      notes.push(
        `${why}: change it in key ${location.key} of ConfigMap ${location.configMap}. The ConfigMap is not patched here, since other workloads may share it.`,
      );
    } else {
      const current = spec.env.find((e) => e.name === location.name)?.value ?? '';
      const onlyMemoryFlags =
        setting.setting === 'GOMEMLIMIT' ||
        current
          .trim()
          .split(/\s+/)
          .every((token) => MEMORY_TOKEN.test(token));
      if (onlyMemoryFlags) {
        const value =
          setting.setting === 'GOMEMLIMIT'
            ? desired.flag
            : rewriteFlag(current, setting.setting, desired.flag);
        env.push({ name: location.name, value });
        notes.push(`${why}: the patch sets ${location.name}.`);
      } else if (setting.runtime === 'jvm' && !spec.env.some((e) => e.name === '_JAVA_OPTIONS')) {
        // _JAVA_OPTIONS is read last by the JVM, so it overrides the flag without rewriting (and quoting) the rest of the variable.
        env.push({ name: '_JAVA_OPTIONS', value: after });
        notes.push(
          `${why}: the patch adds _JAVA_OPTIONS=${after}, which the JVM reads last, rather than rewriting ${location.name}, whose other contents are not shown.`,
        );
      } else {
        notes.push(
          `${why}: change it to ${after} in ${location.name} (the rest of that variable is left alone and not shown: it may carry secrets).`,
        );
      }
    }
  }
  return { env, args };
}

function afterText(setting: RuntimeSetting, flag: string): string {
  switch (setting.setting) {
    case 'Xmx':
      return `-Xmx${flag}`;
    case 'MaxHeapSize':
      return `-XX:MaxHeapSize=${flag}`;
    case 'MaxRAMPercentage':
      return `-XX:MaxRAMPercentage=${flag}`;
    case 'MaxRAMFraction':
      return `-XX:MaxRAMFraction=${flag}`;
    case 'GOMEMLIMIT':
      return `GOMEMLIMIT=${flag}`;
    case 'max-old-space-size':
      return `--max-old-space-size=${flag}`;
  }
}
