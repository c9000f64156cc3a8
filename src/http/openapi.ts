/**
 * The OpenAPI 3.1 document is produced from the same zod schemas that validate requests
 * (JSON Schema 2020-12, zod's converter): every route is declared once, through `declareRoute`,
 * which registers both the Express handler and its documentation. Rules a zod refine enforces
 * are attached to the schema with `.meta()` (src/validation), so the document carries them too.
 */
import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import { resourceName } from '../validation/record-metadata.js';

type Method = 'get' | 'post' | 'put' | 'delete';

export interface ResponseDoc {
  description: string;
  /** The body, as JSON (or `contentType`); a body of every type in `content` otherwise. */
  schema?: z.ZodType;
  contentType?: string;
  content?: Record<string, z.ZodType>;
  headers?: Record<string, string>;
}

export interface RouteDoc {
  method: Method;
  /** Express path, e.g. `/projects/:project`. */
  path: string;
  summary: string;
  /** Rules the schemas cannot state (they depend on the path, on other fields or on stored records), answered with 400/409. */
  description?: string;
  tag: string;
  body?: z.ZodType;
  /** Request examples (the design's bodies), by name. */
  examples?: Record<string, unknown>;
  /** Whether a body is required (default: true when there is one). */
  bodyRequired?: boolean;
  query?: Record<string, { description: string; required?: boolean; schema?: z.ZodType }>;
  /** Path parameters that are not DCM names (the default), by name: e.g. a Kubernetes label key. */
  pathParams?: Record<string, z.ZodType>;
  responses: Record<number, ResponseDoc>;
  /** A create: the record's name is `metadata.name` of the 201 body, the value of `:itemParam` in the paths under it. */
  creates?: { itemParam: string };
}

/** What `OpenApiRegistry.extend` adds to an operation. */
export interface OperationExtension {
  /** Request body types besides JSON, with the schema of their form (and each part's type). */
  requestContent?: Record<string, { schema: z.ZodType; encoding?: Record<string, { contentType: string }> }>;
  query?: Record<string, { description: string; schema: z.ZodType }>;
  /** Error answers (4xx) beyond the declared ones, by status. */
  responses?: Record<number, string>;
}

/** Every error answer: `{ name, message, details[{ field, message }] }`. */
export const ErrorBody = z
  .strictObject({
    name: z.string(),
    message: z.string(),
    details: z.array(z.strictObject({ field: z.string(), message: z.string() })),
  })
  .meta({
    description: 'Error: `{ name, message, details[{ field, message }] }`; a 400 names every bad field in details',
  });

const ERROR_REF = { $ref: '#/components/schemas/Error' };
/** Every operation that takes a body may answer 413: a body beyond the limit is refused before it is read. */
const TOO_LARGE = 'Request body too large (beyond DCM_BODY_LIMIT)';
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ERROR_REF } },
});

/** A zod schema as an OpenAPI 3.1 schema object (JSON Schema 2020-12, no `$schema`). */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}

const pathParameterSchema = jsonSchemaOf(resourceName, 'input');

export class OpenApiRegistry {
  private readonly routes: (RouteDoc & { fullPath: string })[] = [];
  private readonly extensions: (OperationExtension & { method: Method; fullPath: string })[] = [];

  add(prefix: string, doc: RouteDoc): void {
    this.routes.push({ ...doc, fullPath: prefix + doc.path });
  }

  /** More to an operation declared elsewhere (another body type, query, answers), e.g. clm's multipart body. */
  extend(prefix: string, method: Method, path: string, extension: OperationExtension): void {
    this.extensions.push({ ...extension, method, fullPath: prefix + path });
  }

  /** Whether the route a request matches takes a body of this type besides JSON (see `extend`). */
  takesBody(method: string, path: string, contentType: string): boolean {
    return this.extensions.some(
      (e) =>
        e.method.toUpperCase() === method && e.requestContent?.[contentType] && routePattern(e.fullPath).test(path),
    );
  }

  /**
   * The methods declared for the route a path matches (as the router matches: literal segments
   * in any case, a parameter any one non-empty segment, an optional trailing slash), upper case;
   * empty when no route has that path.
   */
  methodsFor(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes)
      if (routePattern(route.fullPath).test(path)) methods.add(route.method.toUpperCase());
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }

  document(info: { title: string; version: string }): object {
    const paths: Record<string, Record<string, object>> = {};
    const openapiPath = (fullPath: string) => fullPath.replace(/:([A-Za-z]+)/g, '{$1}');
    const paramsOf = (fullPath: string) => [...fullPath.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
    for (const route of this.routes) {
      const parameters = [
        ...paramsOf(route.fullPath).map((name) => {
          const own = route.pathParams?.[name];
          return { name, in: 'path', required: true, schema: own ? jsonSchemaOf(own, 'input') : pathParameterSchema };
        }),
        ...Object.entries(route.query ?? {}).map(([name, q]) => ({
          name,
          in: 'query',
          required: q.required ?? false,
          description: q.description,
          schema: q.schema ? jsonSchemaOf(q.schema, 'input') : { type: 'string' },
        })),
      ];
      const requestBody = route.body
        ? {
            required: route.bodyRequired ?? true,
            content: {
              'application/json': {
                schema: jsonSchemaOf(route.body, 'input'),
                ...(route.examples
                  ? {
                      examples: Object.fromEntries(
                        Object.entries(route.examples).map(([name, value]) => [name, { value }]),
                      ),
                    }
                  : {}),
              },
            },
          }
        : undefined;
      const responses: Record<string, object> = {};
      for (const [status, r] of Object.entries(route.responses)) {
        if (Number(status) >= 400) {
          responses[status] = errorResponse(r.description);
          continue;
        }
        const content = r.content ?? (r.schema ? { [r.contentType ?? 'application/json']: r.schema } : undefined);
        responses[status] = {
          description: r.description,
          ...(r.headers
            ? {
                headers: Object.fromEntries(
                  Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }]),
                ),
              }
            : {}),
          ...(content
            ? {
                content: Object.fromEntries(
                  Object.entries(content).map(([type, s]) => [type, { schema: jsonSchemaOf(s, 'output') }]),
                ),
              }
            : {}),
          ...(route.creates && status === '201'
            ? { links: this.linksFrom(route.fullPath, route.creates.itemParam) }
            : {}),
        };
      }
      const hasParameters = route.fullPath.includes(':');
      if (route.body || route.query || hasParameters)
        responses['400'] ??= errorResponse('Invalid request: details name every bad field');
      if (hasParameters) responses['404'] ??= errorResponse('No such record (the message says which)');
      if (requestBody) responses['413'] ??= errorResponse(TOO_LARGE);
      responses.default = errorResponse('Error: `{ name, message, details[{ field, message }] }`');
      (paths[openapiPath(route.fullPath)] ??= {})[route.method] = {
        operationId: operationId(route.method, route.fullPath),
        tags: [route.tag],
        summary: route.summary,
        ...(route.description ? { description: route.description } : {}),
        parameters,
        ...(requestBody ? { requestBody } : {}),
        responses,
      };
    }
    for (const e of this.extensions) {
      const operation = paths[openapiPath(e.fullPath)]?.[e.method] as
        | { requestBody: { content: Record<string, object> }; parameters: object[]; responses: Record<string, object> }
        | undefined;
      if (!operation) continue;
      for (const [type, { schema, encoding }] of Object.entries(e.requestContent ?? {}))
        operation.requestBody.content[type] = {
          schema: jsonSchemaOf(schema, 'input'),
          ...(encoding ? { encoding } : {}),
        };
      for (const [name, q] of Object.entries(e.query ?? {}))
        operation.parameters.push({
          name,
          in: 'query',
          required: false,
          description: q.description,
          schema: jsonSchemaOf(q.schema, 'input'),
        });
      for (const [status, description] of Object.entries(e.responses ?? {}))
        operation.responses[status] = errorResponse(description);
    }
    // No `jsonSchemaDialect`: OpenAPI 3.1's default dialect (https://spec.openapis.org/oas/3.1/dialect/base)
    // is JSON Schema 2020-12 with OpenAPI's vocabulary, what zod writes; Swagger UI warns on any other value.
    return {
      openapi: '3.1.0',
      info,
      paths,
      components: { schemas: { Error: jsonSchemaOf(ErrorBody, 'output') } },
    };
  }

  /**
   * OpenAPI links of a create's 201 answer: every operation on the created record and under it,
   * its name from the body's `metadata.name`, the other path parameters those of the request.
   */
  private linksFrom(collectionPath: string, itemParam: string): Record<string, object> {
    const itemPath = `${collectionPath}/:${itemParam}`;
    const links: Record<string, object> = {};
    for (const target of this.routes) {
      if (target.fullPath !== itemPath && !target.fullPath.startsWith(`${itemPath}/`)) continue;
      // Only operations whose every parameter is known: the created name or one of the request's.
      const known = new Set([itemParam, ...[...collectionPath.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!)]);
      if ([...target.fullPath.matchAll(/:([A-Za-z]+)/g)].some((m) => !known.has(m[1]!))) continue;
      const parameters = Object.fromEntries(
        [...target.fullPath.matchAll(/:([A-Za-z]+)/g)].map((m) => [
          `path.${m[1]!}`,
          m[1] === itemParam ? '$response.body#/metadata/name' : `$request.path.${m[1]!}`,
        ]),
      );
      links[operationId(target.method, target.fullPath)] = {
        operationId: operationId(target.method, target.fullPath),
        parameters,
      };
    }
    return links;
  }
}

/** e.g. `get /v2/projects/:project/logical-clouds` → `getProjectsLogicalClouds`, item paths end in `Item`. */
function operationId(method: Method, fullPath: string): string {
  const segments = fullPath.split('/').filter((s) => s && s !== 'v2');
  const words = segments.map((s) => (s.startsWith(':') ? 'By-' + s.slice(1) : s));
  return (
    method +
    words
      .map((w) =>
        w
          .split(/[-_]/)
          .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
          .join(''),
      )
      .join('')
  );
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
export function declareRoute(
  router: Router,
  registry: OpenApiRegistry,
  prefix: string,
  doc: RouteDoc,
  handler: Handler,
): void {
  registry.add(prefix, doc);
  router[doc.method](doc.path, handler as RequestHandler);
}
