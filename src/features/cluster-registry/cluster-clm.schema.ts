/**
 * The cluster registry in EMCO clm's dialect: the multipart registration (a `metadata` field and a
 * `file` part, the kubeconfig), clm's labels (`{"label-name": …}`) and the `?label=` filter.
 */
import { z } from 'zod';
import { InvalidInputError, type FieldProblem } from '../../errors.js';
import { PATTERNS } from '../../validation/kubernetes-names.js';
import { isLabelKey } from '../../validation/labels.js';
import { atMost, LIMITS } from '../../validation/limits.js';
import { description, resourceName, userData } from '../../validation/record-metadata.js';

/** The parts of a multipart registration and their sizes: the metadata JSON, the kubeconfig file. */
export const MULTIPART_PARTS = {
  metadata: { maxBytes: 128 * 1024 },
  file: { maxBytes: LIMITS.kubeconfigLength },
};

/** A clm label name: a Kubernetes label key (`[prefix/]name`). */
export const LabelName = z
  .string()
  .min(1, { error: 'is required', abort: true })
  .max(LIMITS.labelKeyLength, { error: atMost(LIMITS.labelKeyLength, 'characters'), abort: true })
  .refine(isLabelKey, {
    message:
      'must be a Kubernetes label key: [prefix/]name, the name at most 63 of A-Z a-z 0-9 - _ . (alphanumeric at both ends), the prefix a DNS subdomain',
  })
  .meta({ pattern: PATTERNS.labelKey, maxLength: LIMITS.labelKeyLength });

/** clm's label body; emcoctl also sends a `metadata` block (with an empty name), which says nothing here. */
export const ClusterLabelSchema = z.strictObject({
  'label-name': LabelName,
  metadata: z
    .strictObject({
      name: resourceName.or(z.literal('')).optional(),
      description: description.optional(),
      userData1: userData.optional(),
      userData2: userData.optional(),
    })
    .optional(),
});

export const ClusterLabelView = z.strictObject({ 'label-name': z.string() });
export const clusterLabelView = (name: string) => ({ 'label-name': name });

/** `GET …/clusters?label=edge`: the clusters carrying that label (whatever its value). */
export const LabelQuery = z.object({ label: LabelName.optional() });

/** The multipart form as OpenAPI shows it: the metadata part (JSON text) and the kubeconfig file. */
export const multipartForm = (required: boolean) =>
  z.strictObject({
    metadata: (required ? z.string() : z.string().optional()).meta({
      description:
        'JSON: {"metadata": {name, description, userData1, userData2}, "spec": {labels, ca-key}}, as the JSON body without spec.kubeconfig',
    }),
    file: (required ? z.string() : z.string().optional()).meta({
      format: 'binary',
      description: `the admin kubeconfig (YAML or JSON, or base64 of it), at most ${LIMITS.kubeconfigLength} bytes`,
    }),
  });

export const MULTIPART_ENCODING = {
  metadata: { contentType: 'application/json, text/plain' },
  file: { contentType: 'application/octet-stream, application/yaml, text/plain' },
};

/** The metadata part as JSON, or a 400 naming it. */
export function metadataJson(bytes: Buffer): unknown {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value;
  } catch {
    throw InvalidInputError.forFields([
      { field: 'metadata', message: 'is not a JSON object ({"metadata": {...}, "spec": {...}})' },
    ]);
  }
}

/** The file part as text (the kubeconfig, or its base64), or a 400 naming it. */
export function fileText(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw InvalidInputError.forFields([
      { field: 'file', message: 'is not UTF-8 text (a kubeconfig, or base64 of one)' },
    ]);
  }
}

/**
 * The metadata part and the file put together as the JSON body would be, so that both are checked
 * exactly like it; a kubeconfig also in `spec` is refused (it comes in the file).
 */
export function asJsonBody(metadata: unknown, kubeconfig: string | undefined): unknown {
  const body = { ...(metadata as Record<string, unknown>) };
  const spec = body.spec;
  if (spec !== undefined && (spec === null || typeof spec !== 'object' || Array.isArray(spec))) return body;
  if (spec && Object.hasOwn(spec, 'kubeconfig'))
    throw InvalidInputError.forFields([
      { field: 'spec.kubeconfig', message: 'comes in the file part of a multipart body, not in its metadata' },
    ]);
  body.spec = {
    ...((spec as Record<string, unknown> | undefined) ?? {}),
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
  };
  return body;
}

/** Refusals of the kubeconfig name the part it came in (`file`), not `spec.kubeconfig`. */
export function namingFilePart<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof InvalidInputError) || !error.details.some((d) => d.field.startsWith('spec.kubeconfig')))
      throw error;
    const details: FieldProblem[] = error.details.map((d) =>
      d.field.startsWith('spec.kubeconfig') ? { ...d, field: 'file' } : d,
    );
    throw InvalidInputError.forFields(details);
  }
}

/** The same, for a service call. */
export async function namingFilePartAsync<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    return namingFilePart(() => {
      throw error;
    });
  }
}
