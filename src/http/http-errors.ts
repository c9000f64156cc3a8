/**
 * The one place that turns errors into HTTP responses: `{ name, message, details }`.
 * Domain errors map by kind; body-parser and path-decoding errors keep their 4xx; anything else is a 500
 * whose message says nothing of the internals (the log has the stack).
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { DomainError, type ErrorKind } from '../errors.js';

export const HTTP_STATUS: Record<ErrorKind, number> = {
  'invalid-input': 400,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'precondition-failed': 412,
  'failed-precondition': 409,
  'not-supported': 400,
  unavailable: 503,
  internal: 500,
};

interface BodyParserError extends Error {
  status?: number;
  type?: string;
}

const BODY_PARSER_MESSAGES: Record<string, string> = {
  'entity.parse.failed': 'request body is not valid JSON',
  'entity.too.large': 'request body is too large',
  'encoding.unsupported': 'request body encoding is not supported',
  'charset.unsupported': 'request body charset is not supported',
};

export const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  if (error instanceof DomainError) {
    const status = HTTP_STATUS[error.kind];
    if (status >= 500) req.log?.error({ err: error }, 'request failed');
    res.status(status).json({ name: error.name, message: error.message, details: error.details });
    return;
  }
  const parserError = error as BodyParserError;
  if (parserError?.type && parserError.status && parserError.status < 500) {
    res.status(parserError.status).json({
      name: 'InvalidRequestBody',
      message: BODY_PARSER_MESSAGES[parserError.type] ?? 'request body could not be read',
      details: [],
    });
    return;
  }
  // The router refuses a path parameter that is not valid percent-encoding with a URIError of status 400.
  if (error instanceof URIError && parserError.status === 400) {
    res.status(400).json({ name: 'InvalidRequestPath', message: 'request path is not valid percent-encoding', details: [] });
    return;
  }
  req.log?.error({ err: error }, 'unhandled error');
  res.status(500).json({ name: 'InternalError', message: 'internal error', details: [] });
};

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ name: 'NotFound', message: `no route for ${req.method} ${req.path}`, details: [] });
};

/** A body is JSON or nothing: anything else answers 415 before it is read. */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json') && !req.is('application/*+json')) {
    res.status(415).json({
      name: 'UnsupportedMediaType',
      message: `request body must be application/json (got ${req.headers['content-type'] ?? 'no content type'})`,
      details: [],
    });
    return;
  }
  next();
};
