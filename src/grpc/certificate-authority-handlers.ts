/** The service-mesh CA over gRPC: the root, a logical cloud's intermediates, rotation. */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  GrpcRotateCaRequest,
  logicalCloudCaView,
  rootCaView,
  rotateCaBody,
} from '../features/certificate-authority/certificate-authority.schema.js';
import type { CertificateAuthorityService } from '../features/certificate-authority/certificate-authority.service.js';
import { parseInput } from '../http/validation.js';
import { toStruct } from './struct.js';
import { LOGICAL_CLOUD_FIELDS, requireFields, type Request, type Unary } from './unary.js';

export function certificateAuthorityHandlers(
  unary: Unary,
  ca: CertificateAuthorityService,
): UntypedServiceImplementation {
  const child = LOGICAL_CLOUD_FIELDS;
  return {
    GetRootCa: unary('GetRootCa', async () => ({ body: toStruct(rootCaView(ca.root())) })),
    GetLogicalCloudCa: unary('GetLogicalCloudCa', async (r: Request) => {
      requireFields(r, child);
      const logicalCloudCa = await ca.logicalCloudCa(r.project as string, r.logical_cloud as string);
      return { body: toStruct(logicalCloudCaView(logicalCloudCa)) };
    }),
    RotateCa: unary('RotateCa', async (r: Request, caller) => {
      requireFields(r, child);
      const reference = (r.cluster_reference as string) || undefined;
      if (reference !== undefined) parseInput(GrpcRotateCaRequest, { cluster_reference: reference });
      const result = await ca.rotate(r.project as string, r.logical_cloud as string, reference, caller);
      return { state: result.summary.state, body: toStruct(rotateCaBody(result)) };
    }),
  };
}
