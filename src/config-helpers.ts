/** Building blocks of the settings' schema (src/config.ts). */
import { z } from 'zod';

export const port = z.coerce.number().int().min(0).max(65535);

export const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(fallback)
    .transform((v) => v === 'true');
