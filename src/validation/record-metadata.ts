/**
 * The metadata of a DCM record, by EMCO's rules: its name, description and user data.
 * Pure: zod schemas and plain functions, no I/O. Checking these when a record is created means a
 * bad value is reported to the caller at once, naming the field, instead of failing later when the
 * logical cloud is instantiated on a cluster.
 */
import { z } from 'zod';
import { atMost, LIMITS } from './limits.js';

/** EMCO's name rule: alphanumeric ends, `-`, `_`, `.` inside, 1..128 characters. */
const RESOURCE_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const RESOURCE_NAME_RULE =
  'must be 1-128 characters of letters, digits, "-", "_" or ".", starting and ending with a letter or digit';

/** The name of a DCM record (project, logical cloud, user permission, quota...). */
export const resourceName = z
  .string({ error: `name is required and ${RESOURCE_NAME_RULE}` })
  .min(1, { error: `name is required and ${RESOURCE_NAME_RULE}` })
  .max(LIMITS.nameLength, { error: `name ${RESOURCE_NAME_RULE}`, abort: true })
  .regex(RESOURCE_NAME, { error: `name ${RESOURCE_NAME_RULE}` });

/** Free text describing a record; EMCO caps it at 1024 characters. */
export const description = z
  .string()
  .max(LIMITS.descriptionLength, { error: `description must be ${atMost(LIMITS.descriptionLength, 'characters')}` })
  .optional();

/** EMCO's opaque userData1/userData2 fields; capped at 512 characters. */
export const userData = z
  .string()
  .max(LIMITS.userDataLength, { error: `user data must be ${atMost(LIMITS.userDataLength, 'characters')}` })
  .optional();
