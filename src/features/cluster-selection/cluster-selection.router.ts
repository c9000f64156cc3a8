/** GET …/logical-clouds/{lc}/cluster-selection: what the selector selects and why not the other clusters (`?selector=` previews one not saved). */
import type { Request, Router } from 'express';
import { z } from 'zod';
import { API_PREFIX } from '../../http/crud-routes.js';
import { declareRoute, type OpenApiRegistry } from '../../http/openapi.js';
import { parseInput } from '../../http/validation.js';
import { InvalidInputError } from '../../errors.js';
import { ClusterSelectorSchema, selectorData } from './cluster-selector.schema.js';
import type { ClusterSelectionService } from './cluster-selection.service.js';

/**
 * The longest `?selector=` accepted (the JSON text): percent-encoded, even of 3-byte characters, the
 * URL stays within Node's 16 KiB of request line and headers.
 */
const SELECTOR_QUERY_LENGTH = 1024;

const Reason = z.enum(['provider', 'labels', 'project policy']);
export const SelectionPreviewBody = z.strictObject({
  logicalCloud: z.string(),
  selector: ClusterSelectorSchema.nullable(),
  saved: z.boolean(),
  removal: z.enum(['Terminate', 'Keep']),
  selected: z.array(
    z.strictObject({
      provider: z.string(),
      cluster: z.string(),
      reference: z.string().optional(),
      pending: z.string().optional(),
    }),
  ),
  notSelected: z.array(
    z.strictObject({ provider: z.string(), cluster: z.string(), reason: Reason, message: z.string() }),
  ),
  lastChange: z.strictObject({ at: z.string(), cause: z.string() }).optional(),
});

const Query = z.strictObject({
  selector: z.string().max(SELECTOR_QUERY_LENGTH, `at most ${SELECTOR_QUERY_LENGTH} characters`).optional(),
});

/** The `?selector=` JSON, checked as spec.clusterSelector is (400 naming `selector.<field>`). */
export function parseSelectorQuery(text: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw InvalidInputError.forFields([
      { field: 'selector', message: 'not JSON (URL-encode a clusterSelector object)' },
    ]);
  }
  return selectorData(parseInput(ClusterSelectorSchema, parsed, 'selector'));
}

export function declareClusterSelectionRoutes(
  router: Router,
  registry: OpenApiRegistry,
  selection: ClusterSelectionService,
): void {
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: '/projects/:project/logical-clouds/:logicalCloud/cluster-selection',
      tag: 'Cluster selection',
      summary:
        "The clusters the logical cloud's spec.clusterSelector selects (matched and admitted by the project policy; " +
        'pending while unreachable), and for every other registered cluster why not; ?selector= previews a selector ' +
        'not saved',
      description:
        'Beyond the schema (400 naming `selector` or `selector.<field>`): `selector` is a clusterSelector as JSON ' +
        '(the schema of spec.clusterSelector), e.g. `{"matchLabels":{"tier":"edge"}}`, URL-encoded.',
      query: {
        selector: {
          description:
            'A clusterSelector as URL-encoded JSON, e.g. {"matchLabels":{"tier":"edge"}}: evaluated instead of the saved one',
          schema: Query.shape.selector.unwrap(),
        },
      },
      responses: {
        200: { description: 'The selection', schema: SelectionPreviewBody },
        400: { description: 'The selector query is not JSON or not a clusterSelector (naming the field)' },
        404: { description: 'No such project or logical cloud' },
      },
    },
    async (req: Request, res) => {
      const { project, logicalCloud } = req.params as { project: string; logicalCloud: string };
      const query = parseInput(Query, req.query, 'query');
      const override = query.selector === undefined ? undefined : parseSelectorQuery(query.selector);
      res.json(await selection.preview(project, logicalCloud, override));
    },
  );
}
