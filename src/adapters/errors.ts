// Errors that cross the adapter boundary, each with what a person can do about it. They are the
// error vocabulary's codes (src/core/errors.ts) under names the adapters read well with.
import { OomdoctorError, type ErrorCode, type OomdoctorErrorOptions } from '../core/errors';

export type EvidenceSource = 'prometheus' | 'kubernetes' | 'metrics-api';

/** A source of evidence could not be read; the diagnosis goes on without it. */
export class SourceError extends OomdoctorError {
  constructor(
    readonly source: EvidenceSource,
    readonly detail: string,
    options: OomdoctorErrorOptions & { code?: ErrorCode } = {},
  ) {
    super(options.code ?? 'source-unavailable', `${source}: ${detail}`, options);
    this.name = 'SourceError';
  }
}

/** The pod, workload or container does not exist (CLI exit 3). */
export class NotFoundError extends OomdoctorError {
  constructor(message: string, options: OomdoctorErrorOptions = {}) {
    super('not-found', message, options);
    this.name = 'NotFoundError';
  }
}

/** The Kubernetes API could not be reached at all (CLI exit 4). */
export class ClusterUnreachableError extends OomdoctorError {
  constructor(message: string, options: OomdoctorErrorOptions = {}) {
    super('kube-unreachable', message, options);
    this.name = 'ClusterUnreachableError';
  }
}

/** The API refused: the message names the missing verb and resource. */
export class ForbiddenError extends OomdoctorError {
  constructor(message: string, options: OomdoctorErrorOptions = {}) {
    super('kube-forbidden', message, options);
    this.name = 'ForbiddenError';
  }
}
