/** GET (project callers and admins), PUT and DELETE (admins) of /v2/projects/{project}/policy. */
import type { Request, Router } from 'express';
import { callerOf } from '../../http/caller.js';
import { API_PREFIX } from '../../http/crud-routes.js';
import { declareRoute, type OpenApiRegistry } from '../../http/openapi.js';
import { parseInput } from '../../http/validation.js';
import {
  policyFromBody,
  ProjectPolicyBody,
  projectPolicyView,
  ProjectPolicyViewSchema,
} from './project-policy.schema.js';
import type { ProjectPolicyService } from './project-policy.service.js';

const PATH = '/projects/:project/policy';

export function declareProjectPolicyRoutes(
  router: Router,
  registry: OpenApiRegistry,
  policies: ProjectPolicyService,
): void {
  const project = (req: Request) => (req.params as { project: string }).project;
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: PATH,
      tag: 'Projects',
      summary: "The project's policy: which clusters and permissions its logical clouds may obtain",
      responses: {
        200: { description: 'The policy (the default unless an admin set one)', schema: ProjectPolicyViewSchema },
      },
    },
    async (req, res) => {
      res.json(projectPolicyView(await policies.get(project(req))));
    },
  );
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'put',
      path: PATH,
      tag: 'Projects',
      summary: "Set the project's policy (admins only); fields left out take the default",
      body: ProjectPolicyBody,
      examples: {
        restricted: {
          spec: {
            clusters: { providers: ['edge'], clusters: ['core/cluster-1'] },
            namespacedCeiling: [
              { apiGroups: ['', 'apps'], resources: ['pods', 'deployments'], verbs: ['get', 'list', 'watch'] },
            ],
            clusterWide: { allowed: false },
            podSecurity: { minimum: 'restricted' },
            network: { allowed: ['AllowSameNamespace', 'DenyAll'] },
            namespacePrefix: 'team-a-',
          },
        },
      },
      responses: {
        200: { description: 'The policy now in force', schema: ProjectPolicyViewSchema },
        400: { description: 'Invalid body' },
        403: { description: 'Not an admin' },
      },
    },
    async (req, res) => {
      const body = parseInput(ProjectPolicyBody, req.body);
      res.json(projectPolicyView(await policies.set(project(req), policyFromBody(body.spec), callerOf(res))));
    },
  );
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'delete',
      path: PATH,
      tag: 'Projects',
      summary: "Reset the project's policy to the default (admins only)",
      responses: { 204: { description: 'Reset' } },
    },
    async (req, res) => {
      await policies.reset(project(req));
      res.status(204).end();
    },
  );
}
