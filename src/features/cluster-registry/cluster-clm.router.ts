/**
 * The cluster registry in EMCO clm's dialect, beside the DCM's own: multipart registration and
 * replacement (a `metadata` field, the kubeconfig in a `file` part), GET by `Accept` (never the admin
 * kubeconfig: 406), clm's labels and `?label=`, and a cluster's kv-pairs. Declared before the JSON
 * routes of the same paths, to which they hand every request that is not theirs.
 */
import type { Request, Response, Router } from 'express';
import { InvalidInputError, type FieldProblem } from '../../errors.js';
import { expectedRevision, setEtag } from '../../http/conditional.js';
import { API_PREFIX, checkNameMatches, crudSpec, declareCrudRoutes } from '../../http/crud-routes.js';
import { isMultipart, readMultipart } from '../../http/multipart.js';
import { declareRoute, type OpenApiRegistry } from '../../http/openapi.js';
import { pageOf, setPageHeaders } from '../../http/pagination.js';
import { parseInput } from '../../http/validation.js';
import { KvPairCreateSchema, KvPairUpdateSchema, KvPairView, kvPairView } from '../kv-pairs/kv-pair.schema.js';
import {
  asJsonBody,
  ClusterLabelSchema,
  ClusterLabelView,
  clusterLabelView,
  fileText,
  LabelName,
  LabelQuery,
  metadataJson,
  MULTIPART_ENCODING,
  MULTIPART_PARTS,
  multipartForm,
  namingFilePart,
  namingFilePartAsync,
} from './cluster-clm.schema.js';
import type { ClusterKvPairService } from './cluster-kv-pair.service.js';
import type { ClusterLabelService } from './cluster-label.service.js';
import {
  ClusterCreateSchema,
  clusterInput,
  clusterInputOf,
  ClusterPartUpdateSchema,
  clusterView,
} from './cluster.schema.js';
import type { ClusterService } from './cluster.service.js';

const TAG = 'Cluster registry';
const COLLECTION = '/cluster-providers/:provider/clusters';
const ITEM = `${COLLECTION}/:cluster`;
const LABELS = `${ITEM}/labels`;

const NO_ADMIN_CREDENTIALS =
  "The DCM never hands out a cluster's admin credentials: GET a cluster with Accept: application/json " +
  '(its metadata and spec); tenants get kubeconfigs of their own from a logical cloud (…/kubeconfig)';

type Params = Record<string, string>;
const paramsOf = (req: Request) => req.params as Params;

function required(parts: Record<string, Buffer>, names: string[]): void {
  const missing: FieldProblem[] = names
    .filter((name) => !parts[name])
    .map((name) => ({ field: name, message: `is required (a multipart body has a metadata field and a file part)` }));
  if (missing.length > 0) throw InvalidInputError.forFields(missing);
}

/** A label in the path, checked like one in a body. */
const labelOf = (req: Request) => parseInput(LabelName, paramsOf(req).label, 'label');

export const clusterKvPairCrud = (kvPairs: ClusterKvPairService) =>
  crudSpec({
    tag: TAG,
    noun: 'cluster kv pair',
    collectionPath: `${ITEM}/kv-pairs`,
    itemParam: 'kvPair',
    createSchema: KvPairCreateSchema,
    updateSchema: KvPairUpdateSchema,
    create: (p, input) => kvPairs.create(p.provider!, p.cluster!, input.metadata.name, input),
    get: (p, name) => kvPairs.get(p.provider!, p.cluster!, name),
    list: (p, page) => kvPairs.list(p.provider!, p.cluster!, page),
    update: (p, name, input, revision) => {
      checkNameMatches(name, input.metadata?.name);
      return kvPairs.update(p.provider!, p.cluster!, name, input, revision);
    },
    delete: (p, name) => kvPairs.delete(p.provider!, p.cluster!, name),
    view: kvPairView,
    viewSchema: KvPairView,
    rules: { create: 'Beyond the schema (400): a key appears in one entry of `spec.kv` only.' },
    examples: {
      create: { 'kv-1': { metadata: { name: 'kv-1' }, spec: { kv: [{ key1: 'val1' }, { key2: 'val2' }] } } },
    },
  });

/** The multipart and Accept handlers of the cluster paths: declared before the JSON routes of the same paths. */
export function declareClusterClmHandlers(
  router: Router,
  registry: OpenApiRegistry,
  clusters: ClusterService,
  labels: ClusterLabelService,
): void {
  router.post(COLLECTION, async (req: Request, res: Response, next) => {
    if (!isMultipart(req)) return next();
    const parts = await readMultipart(req, { parts: MULTIPART_PARTS });
    required(parts, ['metadata', 'file']);
    const body = asJsonBody(metadataJson(parts.metadata!), fileText(parts.file!));
    const input = namingFilePart(() => parseInput(ClusterCreateSchema, body));
    const { provider } = paramsOf(req);
    const record = await namingFilePartAsync(() =>
      clusters.create(provider!, input.metadata.name, clusterInput(input)),
    );
    setEtag(res, record.revision);
    res
      .status(201)
      .location(`${API_PREFIX}${req.path.replace(/\/$/, '')}/${encodeURIComponent(record.name)}`)
      .json(clusterView(record, paramsOf(req)));
  });
  registry.extend(API_PREFIX, 'post', COLLECTION, {
    requestContent: { 'multipart/form-data': { schema: multipartForm(true), encoding: MULTIPART_ENCODING } },
  });

  router.put(ITEM, async (req: Request, res: Response, next) => {
    if (!isMultipart(req)) return next();
    const revision = expectedRevision(req);
    const parts = await readMultipart(req, { parts: MULTIPART_PARTS });
    if (!parts.metadata && !parts.file)
      throw InvalidInputError.forFields([
        { field: '(body)', message: 'needs a metadata field, a file part (the kubeconfig) or both' },
      ]);
    const { provider, cluster } = paramsOf(req) as { provider: string; cluster: string };
    const kubeconfig = parts.file ? fileText(parts.file) : undefined;
    let change: Parameters<ClusterService['updatePartly']>[2];
    if (parts.metadata) {
      const body = asJsonBody(metadataJson(parts.metadata), kubeconfig);
      const input = namingFilePart(() => parseInput(ClusterPartUpdateSchema, body));
      checkNameMatches(cluster, input.metadata.name);
      change = {
        input: clusterInputOf(input),
        ...(input.spec.kubeconfig ? { kubeconfig: input.spec.kubeconfig } : {}),
      };
    } else {
      const input = namingFilePart(() => parseInput(ClusterPartUpdateSchema, asJsonBody({ metadata: {} }, kubeconfig)));
      change = { kubeconfig: input.spec.kubeconfig! };
    }
    const record = await namingFilePartAsync(() => clusters.updatePartly(provider, cluster, change, revision));
    setEtag(res, record.revision);
    res.json(clusterView(record, paramsOf(req)));
  });
  registry.extend(API_PREFIX, 'put', ITEM, {
    requestContent: { 'multipart/form-data': { schema: multipartForm(false), encoding: MULTIPART_ENCODING } },
  });

  // clm answers the admin kubeconfig for these types; the DCM never does.
  router.get(ITEM, (req: Request, res: Response, next) => {
    const wanted = req.accepts(['application/json', 'multipart/form-data', 'application/octet-stream']);
    if (wanted !== 'multipart/form-data' && wanted !== 'application/octet-stream') return next();
    res.status(406).json({ name: 'NotAcceptable', message: NO_ADMIN_CREDENTIALS, details: [] });
  });
  registry.extend(API_PREFIX, 'get', ITEM, {
    responses: {
      406: 'Accept asks for the admin kubeconfig (multipart/form-data, application/octet-stream): never given',
    },
  });

  router.get(COLLECTION, async (req: Request, res: Response, next) => {
    if (req.query.label === undefined) return next();
    const { label } = parseInput(LabelQuery, { label: req.query.label }, 'query');
    const page = pageOf(req);
    const { items, total } = await labels.clustersWith(paramsOf(req).provider!, label!, page);
    setPageHeaders(req, res, page, total);
    res.json(items.map((c) => clusterView(c, paramsOf(req))));
  });
  registry.extend(API_PREFIX, 'get', COLLECTION, {
    query: { label: { description: 'only the clusters carrying this label (any value)', schema: LabelName } },
  });
}

/** clm's labels of a cluster and its kv-pairs. */
export function declareClusterClmRoutes(
  router: Router,
  registry: OpenApiRegistry,
  labels: ClusterLabelService,
  kvPairs: ClusterKvPairService,
): void {
  const cluster = (req: Request) => paramsOf(req) as { provider: string; cluster: string };
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'post',
      path: LABELS,
      tag: TAG,
      summary: "Add a label to a cluster (clm's form: the label with an empty value)",
      body: ClusterLabelSchema,
      examples: { edge: { 'label-name': 'edge' } },
      responses: {
        201: { description: 'The label', schema: ClusterLabelView, headers: { Location: 'its URL' } },
        409: { description: 'The cluster has the label already' },
      },
    },
    async (req, res) => {
      const body = parseInput(ClusterLabelSchema, req.body);
      const { provider, cluster: name } = cluster(req);
      const label = await labels.add(provider, name, body['label-name']);
      res
        .status(201)
        .location(`${API_PREFIX}${req.path.replace(/\/$/, '')}/${encodeURIComponent(label)}`)
        .json(clusterLabelView(label));
    },
  );
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: LABELS,
      tag: TAG,
      summary: "A cluster's labels by name (clm's form; every label, whatever its value)",
      responses: { 200: { description: 'The labels', schema: ClusterLabelView.array() } },
    },
    async (req, res) => {
      const { provider, cluster: name } = cluster(req);
      res.json((await labels.list(provider, name)).map(clusterLabelView));
    },
  );
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: `${LABELS}/:label`,
      pathParams: { label: LabelName },
      tag: TAG,
      summary: 'One label of a cluster',
      responses: { 200: { description: 'The label', schema: ClusterLabelView } },
    },
    async (req, res) => {
      const { provider, cluster: name } = cluster(req);
      res.json(clusterLabelView(await labels.get(provider, name, labelOf(req))));
    },
  );
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'delete',
      path: `${LABELS}/:label`,
      pathParams: { label: LabelName },
      tag: TAG,
      summary: 'Remove a label from a cluster (whatever its value)',
      responses: { 204: { description: 'Removed' } },
    },
    async (req, res) => {
      const { provider, cluster: name } = cluster(req);
      await labels.remove(provider, name, labelOf(req));
      res.status(204).end();
    },
  );
  declareCrudRoutes(router, registry, clusterKvPairCrud(kvPairs));
}
