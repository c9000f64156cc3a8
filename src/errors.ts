/**
 * The one error hierarchy of the service layer. REST and gRPC each map these kinds to
 * their own status codes in one table; nothing else decides a status.
 */
export type ErrorKind =
  | 'invalid-input'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'precondition-failed'
  | 'failed-precondition'
  | 'not-supported'
  | 'unavailable'
  | 'internal';

export interface FieldProblem {
  /** Dotted path of the offending field as the client sent it, e.g. `spec.user.user-name`. */
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly details: FieldProblem[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidInputError extends DomainError {
  constructor(message: string, details: FieldProblem[] = []) {
    super('invalid-input', message, details);
  }

  static forFields(details: FieldProblem[]): InvalidInputError {
    const summary = details.map((d) => `${d.field}: ${d.message}`).join('; ');
    return new InvalidInputError(`invalid request: ${summary}`, details);
  }
}

/** The caller may not do this here: a project's policy (the tenant boundary) refuses it (HTTP 403, gRPC PERMISSION_DENIED). */
export class PolicyDeniedError extends DomainError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super('not-found', message);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details: FieldProblem[] = []) {
    super('conflict', message, details);
  }
}

export class PreconditionFailedError extends DomainError {
  constructor(message: string) {
    super('precondition-failed', message);
  }
}

/** The request is valid but the resource's state does not allow it now (HTTP 409, gRPC FAILED_PRECONDITION). */
export class StateConflictError extends DomainError {
  constructor(message: string) {
    super('failed-precondition', message);
  }
}

export class NotSupportedError extends DomainError {
  constructor(message: string, details: FieldProblem[] = []) {
    super('not-supported', message, details);
  }
}

export class UnavailableError extends DomainError {
  constructor(message: string) {
    super('unavailable', message);
  }
}
