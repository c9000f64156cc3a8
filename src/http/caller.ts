/** Who is calling a REST route: the principal the access guard (src/auth/http.ts) put on the response. */
import type { Response } from 'express';
import { UNSCOPED_PRINCIPAL, type Principal } from '../auth/authorize.js';

/** The caller; without a guard in front (never so in a composed DCM) a caller with no rights, never an admin. */
export const callerOf = (res: Response): Principal =>
  (res.locals.principal as Principal | undefined) ?? UNSCOPED_PRINCIPAL;
