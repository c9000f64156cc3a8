/**
 * `npm start`: runs the DCM for development. Without MONGO_URL it first starts an embedded
 * MongoDB-protocol server (a local mongod if there is one, otherwise FerretDB, built once
 * and cached like the test backends) with its data in `.dcm-dev/`, and stops it on exit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateEncryptionKey } from '../src/security/secret-cipher.js';
import { repoRoot } from '../test/testenv/layout.js';
import { startMongo } from '../test/testenv/testenv.js';

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
  const mongo = await startMongo(path.join(repoRoot, '.dcm-dev', 'mongo'), { fresh: false });
  process.env.MONGO_URL = mongo.url;
  console.error(
    `[dcm] embedded ${mongo.kind} at ${mongo.url} (data in .dcm-dev/; set MONGO_URL to use your own MongoDB)`,
  );
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
