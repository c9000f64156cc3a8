/**
 * What the DCM asks its database, seen through the driver's command monitoring, and whether
 * FerretDB v1 pushes each filter down to its storage (its `explain` answers `filterPushdown`).
 */
import type { CommandStartedEvent, Db, Document, MongoClient } from 'mongodb';

export interface IssuedQuery {
  command: string;
  collection: string;
  filter: Document;
}

const READ_FILTER: Record<string, string> = {
  find: 'filter',
  findAndModify: 'query',
  count: 'query',
  distinct: 'query',
};
const WRITE_FILTERS: Record<string, [list: string, filter: string]> = {
  update: ['updates', 'q'],
  delete: ['deletes', 'q'],
};

/** The filters of a command (none for inserts and the like). */
export function filtersOf(event: Pick<CommandStartedEvent, 'commandName' | 'command'>): IssuedQuery[] {
  const { commandName: command, command: body } = event;
  const collection = String(body[command]);
  if (READ_FILTER[command]) return [{ command, collection, filter: (body[READ_FILTER[command]] as Document) ?? {} }];
  const write = WRITE_FILTERS[command];
  if (write)
    return (body[write[0]] as Document[]).map((entry) => ({
      command,
      collection,
      filter: entry[write[1]] as Document,
    }));
  if (command === 'aggregate') {
    const first = (body.pipeline as Document[])[0];
    return [{ command, collection, filter: (first?.$match as Document | undefined) ?? {} }];
  }
  return [];
}

/** Records the filters of every command sent on `client` (made with `monitorCommands: true`) to database `dbName`. */
export function recordQueries(client: MongoClient, dbName: string): { take(): IssuedQuery[] } {
  let seen: IssuedQuery[] = [];
  client.on('commandStarted', (event) => {
    if (event.databaseName === dbName) seen.push(...filtersOf(event));
  });
  return {
    take: () => {
      const taken = seen;
      seen = [];
      return taken;
    },
  };
}

/**
 * Why a filter is not in the subset both MongoDB and FerretDB v1 serve from storage (equality on
 * top-level fields, scalar values), or undefined when it is.
 */
export function notPushable(filter: Document): string | undefined {
  const keys = Object.keys(filter);
  if (keys.length === 0) return 'no filter: a scan of the whole collection';
  for (const key of keys) {
    const value: unknown = filter[key];
    if (key.startsWith('$')) return `operator ${key}`;
    if (key.includes('.')) return `dotted path ${key}`;
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      const ops = Object.keys(value);
      if (!ops.every((op) => op === '$eq')) return `${key}: ${ops.join(', ')}`;
    }
  }
  return undefined;
}

/** FerretDB's own answer (PostgreSQL backend): does `explain` report the filter pushed down? undefined where it cannot tell. */
export async function ferretdbPushesDown(db: Db, query: IssuedQuery): Promise<boolean | undefined> {
  // FerretDB answers false for a collection that does not exist yet (no table to ask): nothing to judge.
  if ((await db.listCollections({ name: query.collection }, { nameOnly: true }).toArray()).length === 0)
    return undefined;
  const answer = await db.command({ explain: { find: query.collection, filter: query.filter } });
  // FerretDB's SQLite backend (a fallback: its plan is SQLite's lines) pushes no filter but `_id`'s down: nothing to judge.
  if (Array.isArray((answer.queryPlanner as { Plan?: unknown } | undefined)?.Plan)) return undefined;
  return typeof answer.filterPushdown === 'boolean' ? answer.filterPushdown : undefined;
}
