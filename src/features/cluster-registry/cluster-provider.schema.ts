/** A cluster provider: a named group of clusters, with the metadata every resource has. */
import { z } from 'zod';
import type { StoredRecord } from '../../domain/records.js';
import { MetadataSchema, MetadataView, metadataView, UpdateMetadataSchema, type Described } from '../metadata.js';

export const ClusterProviderCreateSchema = z.strictObject({ metadata: MetadataSchema });
export const ClusterProviderUpdateSchema = z.strictObject({ metadata: UpdateMetadataSchema });

/** A cluster provider's body. */
export const ClusterProviderView = z.strictObject({ metadata: MetadataView });

export const clusterProviderView = (p: StoredRecord<Described>) => ({ metadata: metadataView(p.name, p.data) });
