/**
 * multipart/form-data bodies (EMCO's clm dialect: a `metadata` field and a `file` part), streamed
 * through busboy with bounds: the parts a route names and no other, each at most once and at most
 * its size, and the whole body at most their sum (plus the framing). A refusal names the part.
 */
import busboy from 'busboy';
import type { Request } from 'express';
import { InvalidInputError } from '../errors.js';
import { hasBody } from './http-errors.js';

export interface MultipartSpec {
  /** The parts a body may have, by name, each with its largest size in bytes (field or file alike). */
  parts: Record<string, { maxBytes: number }>;
}

/** The parts of a body, by name (a field's value or a file's bytes). */
export type MultipartBody = Record<string, Buffer>;

/** Room for the boundaries and part headers around the parts' contents. */
const FRAMING_BYTES = 16 * 1024;

/** Whether a request carries a multipart/form-data body. */
export const isMultipart = (req: Request): boolean =>
  hasBody(req) && req.is('multipart/form-data') === 'multipart/form-data';

/** An error the error handler answers 413 with (body-parser's shape: a 4xx `status` and a `type`). */
function tooLarge(): Error {
  return Object.assign(new Error('request body is too large'), { status: 413, type: 'entity.too.large' });
}

const problem = (field: string, message: string) => InvalidInputError.forFields([{ field, message }]);

/** A part's name as a refusal may repeat it: printable and short (it is the caller's text). */
const shown = (name: string | undefined) => {
  const printable = (name ?? '').replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 64 ? `${printable.slice(0, 64)}…` : printable;
};

/**
 * Reads a multipart body by `spec`: resolves to its parts, or rejects with a 400 naming the part
 * (one that is not in the spec, twice, or too large; a body that is not multipart at all) or a
 * 413 for a body larger than every part together. The body is read to its end either way.
 */
export function readMultipart(req: Request, spec: MultipartSpec): Promise<MultipartBody> {
  const names = Object.keys(spec.parts);
  const largest = Math.max(...Object.values(spec.parts).map((p) => p.maxBytes));
  const totalLimit = Object.values(spec.parts).reduce((sum, p) => sum + p.maxBytes, 0) + FRAMING_BYTES;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > totalLimit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          // One part beyond the names, so that it is named in the refusal (a duplicate or a stranger).
          parts: names.length + 2,
          fields: names.length + 2,
          files: names.length + 2,
          fieldNameSize: 200,
          fieldSize: largest + 1,
          fileSize: largest + 1,
          headerPairs: 20,
        },
      });
    } catch {
      req.resume();
      reject(problem('(body)', 'is not a multipart/form-data body with a boundary'));
      return;
    }
    const parts: MultipartBody = {};
    /** The names admitted so far (a file's bytes are kept only at its end, after the next part may have begun). */
    const seen = new Set<string>();
    let failure: Error | undefined;
    let received = 0;
    let settled = false;
    const fail = (error: Error) => {
      failure ??= error;
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      if (failure) reject(failure);
      else resolve(parts);
    };
    /** A part named `name` arrives: whether it is one to keep. */
    const admit = (name: string | undefined): name is string => {
      if (failure) return false;
      if (name === undefined || name === '') {
        fail(problem('(part)', 'has no name (a part of this body is one of ' + names.join(', ') + ')'));
        return false;
      }
      if (!Object.hasOwn(spec.parts, name)) {
        fail(problem(shown(name) || '(part)', `is not a part of this body (the parts are ${names.join(', ')})`));
        return false;
      }
      if (seen.has(name)) {
        fail(problem(name, 'is given more than once (one part of each name)'));
        return false;
      }
      seen.add(name);
      return true;
    };
    const sizeProblem = (name: string) => problem(name, `is at most ${spec.parts[name]!.maxBytes} bytes`);

    // A handler that threw would be thrown from the parser's stream, out of any request: it fails the body instead.
    const guarded =
      <A extends unknown[]>(handler: (...args: A) => void) =>
      (...args: A) => {
        try {
          handler(...args);
        } catch {
          fail(problem('(body)', 'is not a well-formed multipart/form-data body'));
        }
      };
    parser.on(
      'field',
      guarded((name: string | undefined, value: string, info: { valueTruncated: boolean }) => {
        if (!admit(name)) return;
        const bytes = Buffer.from(value, 'utf8');
        if (info.valueTruncated || bytes.length > spec.parts[name]!.maxBytes) fail(sizeProblem(name));
        else parts[name] = bytes;
      }),
    );
    parser.on(
      'file',
      guarded((name: string | undefined, stream: NodeJS.ReadableStream) => {
        if (!admit(name)) {
          stream.resume();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= spec.parts[name]!.maxBytes) chunks.push(chunk);
        });
        stream.on('end', () => {
          if (size > spec.parts[name]!.maxBytes) fail(sizeProblem(name));
          else if (!failure) parts[name] = Buffer.concat(chunks);
        });
      }),
    );
    const tooMany = () =>
      fail(problem('(body)', `has more than ${names.length} parts (the parts are ${names.join(', ')})`));
    parser.on('partsLimit', tooMany);
    parser.on('filesLimit', tooMany);
    parser.on('fieldsLimit', tooMany);
    parser.on('error', () => {
      fail(problem('(body)', 'is not a well-formed multipart/form-data body'));
      req.unpipe(parser);
      req.resume();
      finish();
    });
    parser.on('close', finish);
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > totalLimit && !settled) {
        fail(tooLarge());
        req.unpipe(parser);
        req.resume();
        finish();
      }
    });
    req.on('aborted', () => {
      fail(problem('(body)', 'ended before it was complete'));
      finish();
    });
    req.pipe(parser);
  });
}
