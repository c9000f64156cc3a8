/** A project as the APIs take it and show it: the metadata every resource has. */
import { z } from 'zod';
import type { StoredRecord } from '../../domain/records.js';
import { MetadataSchema, MetadataView, metadataView, UpdateMetadataSchema } from '../metadata.js';
import type { ProjectData } from './project.service.js';

export const ProjectCreateSchema = z.strictObject({ metadata: MetadataSchema });
export const ProjectUpdateSchema = z.strictObject({ metadata: UpdateMetadataSchema });

export const ProjectView = z.strictObject({ metadata: MetadataView });

export const projectView = (p: StoredRecord<ProjectData>) => ({ metadata: metadataView(p.name, p.data) });
