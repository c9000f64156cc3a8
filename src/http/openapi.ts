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

  /**
   * The methods declared for the route a path matches (as the router matches: literal segments
   * in any case, a parameter any one non-empty segment, an optional trailing slash), upper case;
   * empty when no route has that path.
   */
  methodsFor(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes) if (routePattern(route.fullPath).test(path)) methods.add(route.method.toUpperCase());
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
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

const patterns = new Map<string, RegExp>();

function routePattern(fullPath: string): RegExp {
  let pattern = patterns.get(fullPath);
  if (!pattern) {
    const source = fullPath
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    pattern = new RegExp(`^${source}/?$`, 'i');
    patterns.set(fullPath, pattern);
  }
  return pattern;
}

export type Handler = (req: Request, res: Response) => Promise<void> | void;

/** Registers a route on the router and its documentation in the registry. */
export function declareRoute(router: Router, registry: OpenApiRegistry, prefix: string, doc: RouteDoc, handler: Handler): void {
  registry.add(prefix, doc);
  router[doc.method](doc.path, handler as RequestHandler);
}
