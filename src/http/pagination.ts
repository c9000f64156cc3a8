/** `?limit=&offset=` on every list; the total and the next page travel in headers. */
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Page } from '../db/named-record-store.js';
import { parseInput } from './validation.js';

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 100;

/** A whole number given as digits (a query string) or a number (gRPC); an empty `?offset=` is no number. */
const wholeNumber = (schema: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : v), schema);

const PageQuery = z.object({
  limit: wholeNumber(z.number({ error: 'limit is a whole number' }).int().min(1).max(MAX_PAGE_SIZE)).default(
    DEFAULT_PAGE_SIZE,
  ),
  offset: wholeNumber(z.number({ error: 'offset is a whole number' }).int().min(0)).default(0),
});

/** The page a client asked for (absent values take the defaults); the gRPC API pages alike. */
export function parsePage(query: { limit?: unknown; offset?: unknown }, prefix = 'query'): Page {
  const { limit, offset } = parseInput(PageQuery, { limit: query.limit, offset: query.offset }, prefix);
  return { limit, offset };
}

export function pageOf(req: Request): Page {
  return parsePage({ limit: req.query.limit, offset: req.query.offset });
}

export function setPageHeaders(req: Request, res: Response, page: Page, total: number): void {
  res.setHeader('X-Total-Count', String(total));
  if (page.offset + page.limit < total) {
    const next = new URLSearchParams({ limit: String(page.limit), offset: String(page.offset + page.limit) });
    res.setHeader('Link', `<${req.baseUrl}${req.path}?${next.toString()}>; rel="next"`);
  }
}
