/**
 * The one place that turns errors into HTTP responses: `{ name, message, details }`.
 * Domain errors map by kind; body-parser and path-decoding errors keep their 4xx; anything else is a 500
 * whose message says nothing of the internals (the log has the stack).
 */
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { DomainError, InvalidInputError, type ErrorKind } from '../errors.js';
import { NUL_MESSAGE, nulCharacterAt, urlHasNulCharacter } from '../validation/nul-characters.js';

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
  /** The raw body (body-parser sets it on parse failures). */
  body?: unknown;
}

/** Whether a body the parser refused is JSON after all: a bare value (`5`, `null`, `"x"`), which no endpoint takes. */
function isBareJsonValue(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
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
      message:
        parserError.type === 'entity.parse.failed' && isBareJsonValue(parserError.body)
          ? 'request body must be a JSON object (or array), not a bare JSON value'
          : (BODY_PARSER_MESSAGES[parserError.type] ?? 'request body could not be read'),
      details: [],
    });
    return;
  }
  // The router refuses a path parameter that is not valid percent-encoding with a URIError of status 400.
  if (error instanceof URIError && parserError.status === 400) {
    res
      .status(400)
      .json({ name: 'InvalidRequestPath', message: 'request path is not valid percent-encoding', details: [] });
    return;
  }
  req.log?.error({ err: error }, 'unhandled error');
  res.status(500).json({ name: 'InternalError', message: 'internal error', details: [] });
};

/** A method a known path does not have: 405 with the methods it has in `Allow`. */
export function methodNotAllowedHandler(methodsFor: (path: string) => string[], mountPath = ''): RequestHandler {
  return (req, res, next) => {
    const allowed = methodsFor(mountPath + req.path);
    if (allowed.length === 0 || allowed.includes(req.method)) return next();
    res.setHeader('Allow', allowed.join(', '));
    res.status(405).json({
      name: 'MethodNotAllowed',
      message: `${req.method} is not allowed on ${mountPath}${req.path}; allowed: ${allowed.join(', ')}`,
      details: [],
    });
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ name: 'NotFound', message: `no route for ${req.method} ${req.path}`, details: [] });
};

/**
 * Content types whose body is read as JSON: JSON itself, and what clients that send JSON label it
 * by accident — `curl -d` says application/x-www-form-urlencoded, some say text/plain — as the
 * Go DCM read them (ONAP's and EMCO's scripts rely on it). A body that then is not JSON is a 400.
 */
const READ_AS_JSON = ['application/json', 'application/*+json', 'application/x-www-form-urlencoded', 'text/plain'];

/** Whether a request's body is to be read as JSON (it has none, or one of a type read as JSON). */
export const readableAsJson = (req: Request): boolean =>
  !hasBody(req) || req.headers['content-type'] === undefined || req.is(READ_AS_JSON) !== false;

/** Whether a request has a body at all (a length above 0, or a chunked one). */
export const hasBody = (req: Request) =>
  Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;

/** A body is JSON or nothing: a type that cannot be JSON (multipart, XML, images…) answers 415 before it is read. */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  if (!readableAsJson(req)) {
    res.status(415).json({
      name: 'UnsupportedMediaType',
      message:
        `request body must be JSON (application/json; also read as JSON when labelled application/x-www-form-urlencoded ` +
        `or text/plain), not ${req.headers['content-type'] ?? 'no content type'}`,
      details: [],
    });
    return;
  }
  next();
};

/** A NUL character anywhere in the path, the query or the JSON body is a 400 naming where (src/validation/nul-characters.ts). */
export const refuseNulCharacters: RequestHandler = (req, _res, next) => {
  const [path, query = ''] = req.originalUrl.split('?', 2) as [string, string?];
  const field = urlHasNulCharacter(path)
    ? 'path'
    : urlHasNulCharacter(query)
      ? 'query'
      : (nulCharacterAt(req.body as unknown) ?? undefined);
  next(field ? InvalidInputError.forFields([{ field, message: NUL_MESSAGE }]) : undefined);
};
