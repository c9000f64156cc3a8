/** ETags from record revisions; `If-Match` for optimistic concurrency on PUT. */
import type { Request, Response } from 'express';
import { InvalidInputError } from '../errors.js';

export const etagOf = (revision: number): string => `"${revision}"`;

export function setEtag(res: Response, revision: number): void {
  res.setHeader('ETag', etagOf(revision));
}

/** The revision an `If-Match` header demands, or undefined when there is none (or `*`). */
export function expectedRevision(req: Request): number | undefined {
  const header = req.headers['if-match'];
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d+)"\s*$/.exec(header);
  if (!match) {
    throw InvalidInputError.forFields([{ field: 'If-Match', message: 'must be an ETag returned by GET, e.g. "3"' }]);
  }
  return Number(match[1]);
}
