/** A cluster's health as the APIs answer it: GET …/clusters/{c}/status, and each cluster of a logical cloud's status. */
import { z } from 'zod';
import type { ClusterHealth } from './cluster-health.store.js';

export const ClusterHealthSchema = z.strictObject({
  reachable: z.boolean(),
  ready: z.boolean(),
  version: z.string().nullable(),
  message: z.string().nullable(),
  checkedAt: z.iso.datetime(),
  since: z.iso.datetime(),
});

export const clusterHealthView = (h: ClusterHealth | undefined) =>
  h
    ? {
        reachable: h.reachable,
        ready: h.ready,
        version: h.version ?? null,
        message: h.message ?? null,
        checkedAt: h.checkedAt.toISOString(),
        since: h.since.toISOString(),
      }
    : null;

export const clusterStatusBody = (provider: string, cluster: string, health: ClusterHealth | undefined) => ({
  'cluster-provider': provider,
  cluster,
  // null until the first probe.
  health: clusterHealthView(health),
});

/** The body of GET …/clusters/{c}/status. */
export const ClusterStatusBody = z.strictObject({
  'cluster-provider': z.string(),
  cluster: z.string(),
  health: ClusterHealthSchema.nullable(),
});

export const StatusQuery = z.strictObject({
  probe: z.enum(['true', 'false'], { message: 'probe is true or false' }).optional(),
});
