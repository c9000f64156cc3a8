/**
 * Integration tests run against real backends. When MONGO_URL and both cluster
 * kubeconfigs are given (your own MongoDB and clusters, e.g. kind), they are used as they
 * are; otherwise the test backends are brought up (or reused when already running).
 *
 * Plain ESM JavaScript: jest loads global set-up outside its module system, so the
 * TypeScript test-backend code is loaded through tsx.
 */
import { tsImport } from 'tsx/esm/api';

const REQUIRED = ['MONGO_URL', 'DCM_TEST_CLUSTER_1_KUBECONFIG', 'DCM_TEST_CLUSTER_2_KUBECONFIG'];

export default async function globalSetup() {
  if (REQUIRED.every((name) => process.env[name])) return;
  const given = REQUIRED.filter((name) => process.env[name]);
  if (given.length > 0) {
    throw new Error(`set all of ${REQUIRED.join(', ')} to use your own backends (only ${given.join(', ')} given)`);
  }
  const { up, testenvVariables } = await tsImport('../testenv/testenv.ts', import.meta.url);
  const { state, started } = await up();
  Object.assign(process.env, testenvVariables(state));
  // Only what this run started is stopped at its end; backends from `npm run testenv:up` stay.
  if (started) process.env.DCM_TESTENV_STARTED_BY_JEST = '1';
}
