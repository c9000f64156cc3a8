/** A cluster quota as the APIs take it (a ResourceQuota `hard` map) and show it. */
import { z } from 'zod';
import { pairsToMap } from '../../db/named-record-store.js';
import type { ClusterQuotaRecord } from '../../domain/logical-cloud.js';
import { quotaSpec } from '../../validation/quota-spec.js';
import { MetadataSchema, MetadataView, metadataView, UpdateMetadataSchema } from '../metadata.js';

export const ClusterQuotaCreateSchema = z.strictObject({ metadata: MetadataSchema, spec: quotaSpec });
export const ClusterQuotaUpdateSchema = z.strictObject({ metadata: UpdateMetadataSchema.optional(), spec: quotaSpec });

export type ClusterQuotaInput = z.infer<typeof ClusterQuotaUpdateSchema>;

/** A cluster quota's body: the `hard` map as given. */
export const ClusterQuotaView = z.strictObject({ metadata: MetadataView, spec: z.record(z.string(), z.string()) });

export const clusterQuotaView = (q: ClusterQuotaRecord) => ({
  metadata: metadataView(q.name, q.data),
  spec: pairsToMap(q.data.spec),
});
