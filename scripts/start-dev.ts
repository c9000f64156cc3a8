/**
 * `npm start`: runs the DCM for development. Without MONGO_URL it first starts an embedded
 * MongoDB-protocol server (a local mongod if there is one, otherwise FerretDB, built once and
 * cached like the test backends, on a PostgreSQL initialised in `.dcm-dev/db/postgres`, or on
 * SQLite when no PostgreSQL can be had) with its data in `.dcm-dev/`, and stops it on exit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateEncryptionKey } from '../src/security/secret-cipher.js';
import { repoRoot } from '../test/testenv/layout.js';
import { startDatabaseServer } from '../test/testenv/database-server.js';

// Development: no authentication (unless configured) — but secrets are still encrypted, with
// a key made once and kept next to the embedded database.
process.env.DCM_DEVELOPMENT_MODE ??= 'true';
if (!process.env.DCM_ENCRYPTION_KEYS && !process.env.DCM_ENCRYPTION_KEYS_FILE) {
  const keyFile = path.join(repoRoot, '.dcm-dev', 'encryption.keys');
  if (!fs.existsSync(keyFile)) {
    fs.mkdirSync(path.dirname(keyFile), { recursive: true });
    fs.writeFileSync(keyFile, `${generateEncryptionKey('dev-1')}\n`, { mode: 0o600 });
  }
  process.env.DCM_ENCRYPTION_KEYS_FILE = keyFile;
}

if (!process.env.MONGO_URL) {
  if (fs.existsSync(path.join(repoRoot, '.dcm-dev', 'mongo'))) {
    console.error(
      '[dcm] .dcm-dev/mongo/ holds data of the earlier SQLite-only embedded database; it is not read any more',
    );
  }
  const mongo = await startDatabaseServer(path.join(repoRoot, '.dcm-dev', 'db'), { fresh: false, durable: true });
  process.env.MONGO_URL = mongo.url;
  console.error(
    `[dcm] embedded ${mongo.kind} at ${mongo.url} (data in .dcm-dev/; set MONGO_URL to use your own MongoDB)`,
  );
  // main.ts exits the process after its graceful shutdown; the database goes with it.
  process.on('exit', () => {
    const stops: [number | undefined, NodeJS.Signals][] = [
      [mongo.pid, 'SIGTERM'],
      [mongo.postgres?.pid, 'SIGINT'], // PostgreSQL's fast shutdown
    ];
    for (const [pid, signal] of stops) {
      try {
        if (pid !== undefined) process.kill(pid, signal);
      } catch {
        /* already gone */
      }
    }
  });
}

await import('../src/main.js');
