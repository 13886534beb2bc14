// What the user typed to name a pod or workload: "shop/api-7d9f-x2x", "shop/deploy/api".

import { checkInputText, ParseError, quoteInput } from './errors';
import type { TargetRequest, WorkloadKind } from './types';

const MAX_LABEL = 63;
const MAX_SUBDOMAIN = 253;
const MAX_TARGET = MAX_LABEL + 1 + 'deployments'.length + 1 + MAX_SUBDOMAIN;

const FORMS = 'expected <namespace>/<pod> or <namespace>/deploy/<name> (also sts/, ds/ or cronjob/)';

/** Accepted kind words, case-insensitive, as kubectl spells them. A Map, so "__proto__" is just unknown. */
const KIND_WORDS = new Map<string, WorkloadKind>([
  ['deploy', 'Deployment'],
  ['deployment', 'Deployment'],
  ['deployments', 'Deployment'],
  ['sts', 'StatefulSet'],
  ['statefulset', 'StatefulSet'],
  ['statefulsets', 'StatefulSet'],
  ['ds', 'DaemonSet'],
  ['daemonset', 'DaemonSet'],
  ['daemonsets', 'DaemonSet'],
  ['cj', 'CronJob'],
  ['cronjob', 'CronJob'],
  ['cronjobs', 'CronJob'],
]);

type NameStyle = 'label' | 'subdomain';

/** Why a name is not an RFC 1123 label or subdomain, as a clause ending a sentence, or null when it is fine. */
function nameProblem(name: string, style: NameStyle): string | null {
  const allowed =
    style === 'label' ? 'lower-case letters, digits and "-"' : 'lower-case letters, digits, "-" and "."';
  const max = style === 'label' ? MAX_LABEL : MAX_SUBDOMAIN;
  if (name === '') return `it is empty, use ${allowed}`;
  let upper = false;
  for (const ch of name) {
    if (ch >= 'A' && ch <= 'Z') {
      upper = true;
    } else if (!(
      (ch >= 'a' && ch <= 'z') ||
      (ch >= '0' && ch <= '9') ||
      ch === '-' ||
      (ch === '.' && style === 'subdomain')
    )) {
      return `${quoteInput(ch)} is not allowed, use ${allowed}`;
    }
  }
  if (upper) {
    const lower = name.toLowerCase();
    const hint = nameProblem(lower, style) === null ? `, e.g. ${quoteInput(lower)}` : '';
    return `Kubernetes names are lower case${hint}`;
  }
  if (name.length > max) return `it has ${name.length} characters, at most ${max} are allowed`;
  // Kubernetes checks a subdomain as a whole (at most 253) and each dot-separated part like a
  // label but without the 63-character limit per part: generated pod names may be longer than 63.
  for (const part of style === 'label' ? [name] : name.split('.')) {
    if (part === '') return `it has an empty part between dots, use ${allowed}`;
    if (part.startsWith('-') || part.endsWith('-')) {
      return `it must start and end with a lower-case letter or digit${style === 'subdomain' ? ' (also around each ".")' : ''}`;
    }
  }
  return null;
}

function parseName(text: string, field: string, style: NameStyle): string {
  const kind =
    style === 'label' ? 'a lower-case name such as "shop"' : 'a lower-case name such as "api-7d9f8-x2x"';
  const name = checkInputText(text, field, style === 'label' ? MAX_LABEL : MAX_SUBDOMAIN, `use ${kind}`);
  const problem = nameProblem(name, style);
  if (problem !== null) throw new ParseError(field, `${field} ${quoteInput(name)} is not valid: ${problem}`);
  return name;
}

/** A namespace: an RFC 1123 label (at most 63 of a-z, 0-9 and "-", starting and ending alphanumeric). */
export function parseNamespace(text: string, field = 'namespace'): string {
  return parseName(text, field, 'label');
}

/** A pod name: an RFC 1123 subdomain (at most 253 characters, dot-separated lower-case labels). */
export function parsePodName(text: string, field = 'pod name'): string {
  return parseName(text, field, 'subdomain');
}

/** A workload name (Deployment, StatefulSet, ...): an RFC 1123 subdomain. */
export function parseWorkloadName(text: string, field = 'workload name'): string {
  return parseName(text, field, 'subdomain');
}

/** A container name: an RFC 1123 label. */
export function parseContainerName(text: string, field = 'container name'): string {
  return parseName(text, field, 'label');
}

/**
 * Parses the CLI/Slack target syntax: "<namespace>/<pod>" or "<namespace>/<kind>/<name>" with kind
 * deploy|deployment|deployments, sts|statefulset|statefulsets, ds|daemonset|daemonsets or
 * cronjob|cronjobs|cj (kind words are case-insensitive, names are not). Surrounding whitespace is ignored.
 */
export function parseTargetRequest(text: string): TargetRequest {
  const field = 'target';
  const target = checkInputText(text, field, MAX_TARGET, FORMS);
  const q = quoteInput(target);
  const parts = target.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new ParseError(field, `${field} ${q} is not valid: ${FORMS}`);
  }
  const namespace = parts[0] as string;
  const name = parts[parts.length - 1] as string;
  const kindWord = parts.length === 3 ? (parts[1] as string) : null;
  const workloadKind = kindWord === null ? null : KIND_WORDS.get(kindWord.toLowerCase());
  if (workloadKind === undefined) {
    throw new ParseError(
      field,
      `${field} ${q} is not valid: ${quoteInput(kindWord ?? '')} is not a workload kind, ${FORMS}`,
    );
  }

  if (/[A-Z]/.test(namespace) || /[A-Z]/.test(name)) {
    const ns = namespace.toLowerCase();
    const lowered = name.toLowerCase();
    // When lower-casing is all it takes, say so for the whole target; otherwise report the other problem.
    if (nameProblem(ns, 'label') === null && nameProblem(lowered, 'subdomain') === null) {
      const example = [ns, ...(kindWord === null ? [] : [kindWord]), lowered].join('/');
      throw new ParseError(
        field,
        `${field} ${q} is not valid: Kubernetes names are lower case, e.g. ${example}`,
      );
    }
  }
  const nsProblem = nameProblem(namespace, 'label');
  if (nsProblem !== null) {
    throw new ParseError(
      field,
      `${field} ${q} has an invalid namespace ${quoteInput(namespace)}: ${nsProblem}`,
    );
  }
  const problem = nameProblem(name, 'subdomain');
  if (problem !== null) {
    const what = workloadKind === null ? 'pod name' : `${workloadKind} name`;
    throw new ParseError(field, `${field} ${q} has an invalid ${what} ${quoteInput(name)}: ${problem}`);
  }
  return workloadKind === null
    ? { kind: 'pod', namespace, pod: name }
    : { kind: 'workload', namespace, workloadKind, name };
}

/**
 * What follows `/oom`: the CLI's forms, or a pod name alone ("/oom api-1"), which the bot looks up
 * across the namespaces it may read.
 */
export function parseCommandTarget(text: string): TargetRequest | { kind: 'bare'; pod: string } {
  const trimmed = text.trim();
  if (!trimmed.includes('/')) return { kind: 'bare', pod: parsePodName(trimmed, 'pod') };
  return parseTargetRequest(trimmed);
}
