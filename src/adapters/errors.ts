// Errors that cross the adapter boundary, each with what a person can do about it.

/** A source of evidence could not be read; the diagnosis goes on without it. */
export class SourceError extends Error {
  constructor(
    readonly source: 'prometheus' | 'kubernetes' | 'metrics-api',
    readonly detail: string,
  ) {
    super(`${source}: ${detail}`);
    this.name = 'SourceError';
  }
}

/** The pod, workload or container does not exist (CLI exit 3). */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** The Kubernetes API could not be reached at all (CLI exit 4). */
export class ClusterUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterUnreachableError';
  }
}

/** The API refused: the message names the missing verb and resource. */
export class ForbiddenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}
