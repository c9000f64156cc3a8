/**
 * `npm start`: runs the DCM for development. Without MONGO_URL it first starts an embedded
 * MongoDB-protocol server (a local mongod if there is one, otherwise FerretDB, built once
 * and cached like the test backends) with its data in `.dcm-dev/`, and stops it on exit.
 */
import path from 'node:path';
import { repoRoot } from '../test/testenv/layout.js';
import { startMongo } from '../test/testenv/testenv.js';

if (!process.env.MONGO_URL) {
  const mongo = await startMongo(path.join(repoRoot, '.dcm-dev', 'mongo'), { fresh: false });
  process.env.MONGO_URL = mongo.url;
  console.error(`[dcm] embedded ${mongo.kind} at ${mongo.url} (data in .dcm-dev/; set MONGO_URL to use your own MongoDB)`);
  // main.ts exits the process after its graceful shutdown; the database goes with it.
  process.on('exit', () => {
    try {
      process.kill(mongo.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  });
}

await import('../src/main.js');
