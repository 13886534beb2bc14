// The report a person reads in a terminal. The top line is the verdict in plain words.
import { CAUSE_TITLES } from '../core/classify';
import type { Diagnosis } from '../core/types';
import { textChart } from './text-chart';

function bar(confidence: number): string {
  const filled = Math.round(confidence * 10);
  return `${'█'.repeat(filled)}${'░'.repeat(10 - filled)}`;
}

export function textReport(d: Diagnosis): string {
  const out: string[] = [];
  out.push(d.headline, '');
  out.push(`Target:  ${d.target.namespace}/${d.target.pod}, container ${d.target.container}`);
  out.push(`Window:  ${d.window.start} to ${d.window.end}`);
  out.push(`Verdict: ${d.verdict}`);
  for (const line of d.verdictEvidence) out.push(`  - ${line}`);
  if (d.causes.length > 0) {
    out.push('', 'Causes, most likely first:');
    d.causes.forEach((cause, i) => {
      out.push(
        `  ${i + 1}. ${CAUSE_TITLES[cause.id]} [${cause.id}]  ${bar(cause.confidence)} ${cause.confidence.toFixed(2)}`,
      );
      for (const line of cause.evidence) out.push(`       - ${line}`);
    });
  }
  if (d.series.points.length > 1) {
    out.push('', 'Memory (working set) against the limit:');
    const kills = d.kills.map((k) => Date.parse(k.at));
    for (const line of textChart({
      points: d.series.points,
      limitBytes: d.series.limitBytes,
      requestBytes: d.series.requestBytes,
      kills,
      start: Date.parse(d.window.start),
      end: Date.parse(d.window.end),
    })) {
      out.push(`  ${line}`);
    }
  }
  const current = d.current.resources;
  out.push(
    '',
    `Now:     requests.memory ${current.requests.memory ?? '(none)'}, limits.memory ${current.limits.memory ?? '(none)'}${d.current.runtime.length > 0 ? `; ${d.current.runtime.map((r) => `${r.value} (${r.source})`).join(', ')}` : ''}`,
  );
  const r = d.recommendation;
  if (r) {
    out.push(
      '',
      `Suggested fix for ${r.workload.kind} ${r.workload.namespace}/${r.workload.name}, container ${r.container}:`,
    );
    out.push(
      `  requests.memory ${current.requests.memory ?? '(none)'} -> ${r.resources.requests.memory || '(unchanged)'}`,
    );
    out.push(
      `  limits.memory   ${current.limits.memory ?? '(none)'} -> ${r.resources.limits.memory || '(unchanged)'}`,
    );
    for (const e of r.env) out.push(`  env ${e.name}=${e.value}`);
    if (r.args) out.push(`  args changed (see the patch)`);
    if (r.command) out.push(`  command changed (see the patch)`);
    for (const note of r.notes) out.push(`  * ${note}`);
    out.push('', '  Apply with:', `    ${r.kubectl}`, '', '  Or as YAML (strategic merge patch):');
    for (const line of r.yaml.trimEnd().split('\n')) out.push(`    ${line}`);
  } else {
    out.push('', 'No resource change is suggested: more memory would not help here.');
  }
  if (d.missing.length > 0) {
    out.push('', 'Could not gather:');
    for (const m of d.missing) out.push(`  ! ${m}`);
  }
  return `${out.join('\n')}\n`;
}
