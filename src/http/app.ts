/** The Express application: middleware, every resource's routes, docs, health, errors. */
import { randomUUID } from 'node:crypto';
import express, { Router, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import type { Logger } from '../logger.js';
import {
  errorHandler,
  methodNotAllowedHandler,
  notFoundHandler,
  refuseNulCharacters,
  requireJsonBody,
} from './http-errors.js';
import { OpenApiRegistry } from './openapi.js';
import { isMultipart } from './multipart.js';

export type RouteDeclaration = (router: Router, registry: OpenApiRegistry) => void;

export interface AppOptions {
  logger: Logger;
  bodyLimit: string;
  version: string;
  routes: RouteDeclaration[];
  ready: () => Promise<boolean>;
  /** Run first on every request, e.g. metrics and audit (src/observability). */
  observers?: RequestHandler[];
  /** Open GET endpoints next to /healthz, e.g. `/metrics`. */
  endpoints?: Record<string, RequestHandler>;
  /** Run before the /v2 routes and before the body is read: authentication and authorization (src/auth). */
  guards?: RequestHandler[];
  /** pino-http's request serializer (e.g. one that drops credentials). */
  requestSerializer?: (req: { headers?: Record<string, unknown> }) => unknown;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createApp(opts: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(
    pinoHttp({
      logger: opts.logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
      ...(opts.requestSerializer ? { serializers: { req: opts.requestSerializer } } : {}),
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    }),
  );
  for (const observer of opts.observers ?? []) app.use(observer);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const ready = await opts.ready();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'database unreachable' });
  });
  for (const [path, handler] of Object.entries(opts.endpoints ?? {})) app.get(path, handler);

  const registry = new OpenApiRegistry();
  const api = Router();
  for (const declare of opts.routes) declare(api, registry);
  const document = registry.document({ title: 'Distributed Cloud Manager', version: opts.version });

  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: 'DCM API' }));

  const takesMultipart = (req: express.Request) =>
    isMultipart(req) && registry.takesBody(req.method, req.baseUrl + req.path, 'multipart/form-data');
  // Every body that passed requireJsonBody is parsed as JSON, whatever its label (see READ_AS_JSON).
  // A method the path does not have answers 405 before its body is read (a TRACE with a body is not a 400).
  app.use(
    '/v2',
    ...(opts.guards ?? []),
    methodNotAllowedHandler((path) => registry.methodsFor(path), '/v2'),
    // A multipart body goes to the routes that declared they take one (registry.extend), which stream it themselves.
    (req, res, next) => (takesMultipart(req) ? next() : requireJsonBody(req, res, next)),
    express.json({ limit: opts.bodyLimit, type: (req) => !takesMultipart(req as express.Request) }),
    refuseNulCharacters,
    api,
  );
  app.use(methodNotAllowedHandler((path) => registry.methodsFor(path)));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
