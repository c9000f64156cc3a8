/** A project's policy over gRPC: get, set, reset. */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { ProjectPolicyBody, projectPolicyView } from '../features/project-policies/project-policy.schema.js';
import { policyFromBody } from '../features/project-policies/project-policy.schema.js';
import type { ProjectPolicyService } from '../features/project-policies/project-policy.service.js';
import { parseInput } from '../http/validation.js';
import { fromStruct, toStruct, type ProtoStruct } from './struct.js';
import { requireFields, type Request, type Unary } from './unary.js';

export function projectPolicyHandlers(unary: Unary, policies: ProjectPolicyService): UntypedServiceImplementation {
  return {
    GetProjectPolicy: unary('GetProjectPolicy', async (r: Request) => {
      requireFields(r, ['project']);
      return { body: toStruct(projectPolicyView(await policies.get(r.project as string))) };
    }),
    SetProjectPolicy: unary('SetProjectPolicy', async (r: Request & { body: ProtoStruct | null }, caller) => {
      requireFields(r, ['project']);
      const body = parseInput(ProjectPolicyBody, fromStruct(r.body), 'body');
      const policy = await policies.set(r.project as string, policyFromBody(body.spec), caller);
      return { body: toStruct(projectPolicyView(policy)) };
    }),
    ResetProjectPolicy: unary('ResetProjectPolicy', async (r: Request) => {
      requireFields(r, ['project']);
      await policies.reset(r.project as string);
      return {};
    }),
  };
}
