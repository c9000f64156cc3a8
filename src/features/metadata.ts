/** The metadata block every DCM resource shares, and its stored form. */
import { z } from 'zod';
import { description, resourceName, userData } from '../validation/record-metadata.js';
import type { Described } from '../domain/records.js';

export const MetadataSchema = z.strictObject({
  name: resourceName,
  description,
  userData1: userData,
  userData2: userData,
});

/** On PUT the name comes from the path; a name in the body must agree with it. */
export const UpdateMetadataSchema = MetadataSchema.extend({ name: resourceName.optional() });

export type { Described } from '../domain/records.js';

export type MetadataInput = z.infer<typeof UpdateMetadataSchema>;

export const describedFrom = (metadata: MetadataInput | undefined): Described => ({
  description: metadata?.description ?? '',
  userData1: metadata?.userData1 ?? '',
  userData2: metadata?.userData2 ?? '',
});

/** The metadata block of every view. */
export const MetadataView = z.strictObject({
  name: z.string(),
  description: z.string(),
  userData1: z.string(),
  userData2: z.string(),
});

export const metadataView = (name: string, d: Described) => ({
  name,
  description: d.description,
  userData1: d.userData1,
  userData2: d.userData2,
});
