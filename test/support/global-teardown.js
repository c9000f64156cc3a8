import { tsImport } from 'tsx/esm/api';

export default async function globalTeardown() {
  if (process.env.DCM_TESTENV_STARTED_BY_JEST !== '1' || process.env.DCM_TESTENV_KEEP === '1') return;
  const { down } = await tsImport('../testenv/testenv.ts', import.meta.url);
  await down();
}
