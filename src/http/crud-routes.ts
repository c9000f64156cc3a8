/**
 * The five routes every DCM collection has (POST/GET list, GET/PUT/DELETE item), declared
 * once: each resource supplies its schemas, its service calls and its view mapping.
 */
import type { Request, Router } from 'express';
import { z } from 'zod';
import type { Page, PageOf } from '../db/named-record-store.js';
import type { Principal } from '../auth/authorize.js';
import { InvalidInputError } from '../errors.js';
import { callerOf } from './caller.js';
import { expectedRevision, setEtag } from './conditional.js';
import { hasBody } from './http-errors.js';
import { declareRoute, type OpenApiRegistry } from './openapi.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageOf, setPageHeaders } from './pagination.js';
import { parseInput } from './validation.js';

export const API_PREFIX = '/v2';

export type Params = Record<string, string>;

export interface CrudSpec<CreateInput, UpdateInput, R extends { name: string; revision: number }> {
  tag: string;
  /** e.g. `/projects/:project/logical-clouds`; the item path appends `/:<itemParam>`. */
  collectionPath: string;
  itemParam: string;
  noun: string;
  createSchema: z.ZodType<CreateInput>;
  updateSchema: z.ZodType<UpdateInput>;
  /** `caller`: who asks (writes by non-admins are bounded by the project's policy). */
  create(params: Params, input: CreateInput, caller: Principal): Promise<R>;
  get(params: Params, name: string): Promise<R>;
  list(params: Params, page: Page): Promise<PageOf<R>>;
  update(
    params: Params,
    name: string,
    input: UpdateInput,
    expectedRevision: number | undefined,
    caller: Principal,
  ): Promise<R>;
  delete(params: Params, name: string, caller: Principal): Promise<void>;
  /** The API body of one record (sync: records carry what their view needs). */
  view(record: R, params: Params): unknown;
  /** The list body; a plain array unless the design says otherwise. */
  listBody?(views: unknown[]): unknown;
  /** The schema of `view`'s body (documented for every answer carrying a record). */
  viewSchema: z.ZodType;
  /** The schema of `listBody`'s body when there is one (else an array of views). */
  listSchema?: z.ZodType;
  /** Rules of POST and PUT bodies the schemas cannot state (another field, stored records), for the document. */
  rules?: { create?: string; update?: string };
  /** Request examples of POST and PUT (the design's bodies). */
  examples?: { create?: Record<string, unknown>; update?: Record<string, unknown> };
}

/** Infers a spec's types where it is written apart from `declareCrudRoutes` (the gRPC API serves the same specs). */
export const crudSpec = <C, U, R extends { name: string; revision: number }>(
  spec: CrudSpec<C, U, R>,
): CrudSpec<C, U, R> => spec;

/** `?limit=&offset=` as documented (pagination.ts checks them). */
const PAGE_QUERY = {
  limit: {
    description: `page size, 1-${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`,
    schema: z.int().min(1).max(MAX_PAGE_SIZE),
  },
  offset: { description: 'items to skip (default 0)', schema: z.int().min(0) },
};

const paramsOf = (req: Request): Params => req.params as Params;

export function declareCrudRoutes<C, U, R extends { name: string; revision: number }>(
  router: Router,
  registry: OpenApiRegistry,
  spec: CrudSpec<C, U, R>,
): void {
  const itemPath = `${spec.collectionPath}/:${spec.itemParam}`;
  const itemLocation = (req: Request, name: string) =>
    `${API_PREFIX}${req.path.replace(/\/$/, '')}/${encodeURIComponent(name)}`;

  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'post',
      path: spec.collectionPath,
      tag: spec.tag,
      summary: `Create a ${spec.noun}`,
      ...(spec.rules?.create ? { description: spec.rules.create } : {}),
      body: spec.createSchema,
      ...(spec.examples?.create ? { examples: spec.examples.create } : {}),
      creates: { itemParam: spec.itemParam },
      responses: {
        201: {
          description: `The created ${spec.noun}`,
          schema: spec.viewSchema,
          headers: { Location: 'its URL', ETag: 'its revision' },
        },
        400: { description: 'Invalid body' },
        404: { description: 'No such parent record' },
        409: { description: 'Duplicate name or conflicting state' },
      },
    },
    async (req, res) => {
      const input = parseInput(spec.createSchema, requiredBody(req));
      const record = await spec.create(paramsOf(req), input, callerOf(res));
      setEtag(res, record.revision);
      res
        .status(201)
        .location(itemLocation(req, record.name))
        .json(spec.view(record, paramsOf(req)));
    },
  );

  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: spec.collectionPath,
      tag: spec.tag,
      summary: `List ${spec.noun}s (paginated: limit, offset; X-Total-Count and Link headers)`,
      query: PAGE_QUERY,
      responses: {
        200: {
          description: `The ${spec.noun}s`,
          schema: spec.listSchema ?? z.array(spec.viewSchema),
          headers: {
            'X-Total-Count': 'how many there are in all',
            Link: 'the next page (rel="next"), when there is one',
          },
        },
      },
    },
    async (req, res) => {
      const page = pageOf(req);
      const { items, total } = await spec.list(paramsOf(req), page);
      setPageHeaders(req, res, page, total);
      const views = items.map((item) => spec.view(item, paramsOf(req)));
      res.json(spec.listBody ? spec.listBody(views) : views);
    },
  );

  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: itemPath,
      tag: spec.tag,
      summary: `Get a ${spec.noun} (ETag header carries its revision)`,
      responses: {
        200: { description: `The ${spec.noun}`, schema: spec.viewSchema, headers: { ETag: 'its revision' } },
        404: { description: 'Not found' },
      },
    },
    async (req, res) => {
      const record = await spec.get(paramsOf(req), paramsOf(req)[spec.itemParam]!);
      setEtag(res, record.revision);
      res.json(spec.view(record, paramsOf(req)));
    },
  );

  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'put',
      path: itemPath,
      tag: spec.tag,
      summary: `Replace a ${spec.noun} (If-Match: a stale ETag answers 412)`,
      description: [NAME_RULE, spec.rules?.update].filter(Boolean).join(' '),
      body: spec.updateSchema,
      ...(spec.examples?.update ? { examples: spec.examples.update } : {}),
      responses: {
        200: {
          description: `The updated ${spec.noun}`,
          schema: spec.viewSchema,
          headers: { ETag: 'its new revision' },
        },
        404: { description: 'Not found' },
        409: { description: 'Conflicting state' },
        412: { description: 'Stale If-Match' },
      },
    },
    async (req, res) => {
      const revision = expectedRevision(req);
      const input = parseInput(spec.updateSchema, requiredBody(req));
      const record = await spec.update(paramsOf(req), paramsOf(req)[spec.itemParam]!, input, revision, callerOf(res));
      setEtag(res, record.revision);
      res.json(spec.view(record, paramsOf(req)));
    },
  );

  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'delete',
      path: itemPath,
      tag: spec.tag,
      summary: `Delete a ${spec.noun}`,
      responses: {
        204: { description: 'Deleted' },
        404: { description: 'Not found' },
        409: { description: 'Still in use' },
      },
    },
    async (req, res) => {
      await spec.delete(paramsOf(req), paramsOf(req)[spec.itemParam]!, callerOf(res));
      res.status(204).end();
    },
  );
}

const NAME_RULE =
  "The body's name (`metadata.name`, or `name` in the design's flat form), when given, must be the name in the path: renaming is not an update (400).";

/** The body of a POST or PUT: it is required (none at all is a 400, not an empty record). */
function requiredBody(req: Request): unknown {
  if (req.body === undefined || !hasBody(req))
    throw InvalidInputError.forFields([{ field: '(body)', message: 'a JSON body is required' }]);
  return req.body;
}

/** A PUT body's name, when given, must be the name in the path (renaming is not an update). */
export function checkNameMatches(pathName: string, bodyName: string | undefined, field = 'metadata.name'): void {
  if (bodyName !== undefined && bodyName !== pathName) {
    throw InvalidInputError.forFields([{ field, message: `must be ${pathName} (the name in the path) or left out` }]);
  }
}

/** A service of records named inside a logical cloud (LogicalCloudChildService), by (project, logical cloud, name). */
export interface LogicalCloudChildOperations<Input, R> {
  create(project: string, logicalCloud: string, name: string, input: Input, caller: Principal): Promise<R>;
  get(project: string, logicalCloud: string, name: string): Promise<R>;
  list(project: string, logicalCloud: string, page?: Page): Promise<PageOf<R>>;
  update(
    project: string,
    logicalCloud: string,
    name: string,
    input: Input,
    expectedRevision: number | undefined,
    caller: Principal,
  ): Promise<R>;
  delete(project: string, logicalCloud: string, name: string): Promise<void>;
}

/** The five operations of a CrudSpec under `…/logical-clouds/:logicalCloud/`, served by such a service. */
export function logicalCloudChildCrud<
  Input extends { metadata?: { name?: string } },
  R extends { name: string; revision: number },
>(
  service: LogicalCloudChildOperations<Input, R>,
): Pick<CrudSpec<Input & { metadata: { name: string } }, Input, R>, 'create' | 'get' | 'list' | 'update' | 'delete'> {
  return {
    create: (p, input, caller) => service.create(p.project!, p.logicalCloud!, input.metadata.name, input, caller),
    get: (p, name) => service.get(p.project!, p.logicalCloud!, name),
    list: (p, page) => service.list(p.project!, p.logicalCloud!, page),
    update: (p, name, input, revision, caller) => {
      checkNameMatches(name, input.metadata?.name);
      return service.update(p.project!, p.logicalCloud!, name, input, revision, caller);
    },
    delete: (p, name) => service.delete(p.project!, p.logicalCloud!, name),
  };
}
