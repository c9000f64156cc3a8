/**
 * The OpenAPI 3 document is produced from the same zod schemas that validate requests:
 * every route is declared once, through `declareRoute`, which registers both the Express
 * handler and its documentation.
 */
import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';

type Method = 'get' | 'post' | 'put' | 'delete';

export interface RouteDoc {
  method: Method;
  /** Express path, e.g. `/projects/:project`. */
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  query?: Record<string, { description: string; required?: boolean }>;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

export class OpenApiRegistry {
  private readonly routes: (RouteDoc & { fullPath: string })[] = [];

  add(prefix: string, doc: RouteDoc): void {
    this.routes.push({ ...doc, fullPath: prefix + doc.path });
  }

  document(info: { title: string; version: string }): object {
    const paths: Record<string, Record<string, object>> = {};
    const schema = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { target: 'openapi-3.0', io, unrepresentable: 'any' });
    for (const route of this.routes) {
      const openapiPath = route.fullPath.replace(/:([A-Za-z]+)/g, '{$1}');
      const parameters = [
        ...[...route.fullPath.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
          name: m[1],
          in: 'path',
          required: true,
          schema: { type: 'string' },
        })),
        ...Object.entries(route.query ?? {}).map(([name, q]) => ({
          name,
          in: 'query',
          required: q.required ?? false,
          description: q.description,
          schema: { type: 'string' },
        })),
      ];
      const responses: Record<string, object> = {};
      for (const [status, r] of Object.entries(route.responses)) {
        responses[status] = r.schema
          ? { description: r.description, content: { [r.contentType ?? 'application/json']: { schema: schema(r.schema, 'output') } } }
          : { description: r.description };
      }
      responses.default = { description: 'Error: `{ name, message, details[{ field, message }] }`' };
      (paths[openapiPath] ??= {})[route.method] = {
        tags: [route.tag],
        summary: route.summary,
        parameters,
        ...(route.body
          ? { requestBody: { required: true, content: { 'application/json': { schema: schema(route.body, 'input') } } } }
          : {}),
        responses,
      };
    }
    return { openapi: '3.0.3', info, paths };
  }
}

export type Handler = (req: Request, res: Response) => Promise<void> | void;

/** Registers a route on the router and its documentation in the registry. */
export function declareRoute(router: Router, registry: OpenApiRegistry, prefix: string, doc: RouteDoc, handler: Handler): void {
  registry.add(prefix, doc);
  router[doc.method](doc.path, handler as RequestHandler);
}
