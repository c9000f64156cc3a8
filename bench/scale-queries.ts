/**
 * The scale section's "where the time goes": the queries the DCM's handlers ask, through the
 * driver alone (no DCM involved), one after another as the handlers do, with the backend's plans.
 */
import type { Db, Document } from 'mongodb';
import { findSplittingIn } from '../src/db/in-as-equalities.js';
import { namesCollectionOf } from '../src/db/record-names.js';
import { mean, ms, table, timed } from './env.js';
import { PROJECT, lcName } from './scale-seed.js';

/** PostgreSQL's plan (FerretDB's PostgreSQL backend), in one line: node type and filter. */
const postgresPlan = (plan: Document): string =>
  `${String(plan['Node Type'])}${plan.Filter ? ` where ${String(plan.Filter)}` : ''}`;

/** How the backend runs a query (FerretDB says whether it pushed the filter and the sort down). */
async function explainOf(cursor: { explain(): Promise<Document> }): Promise<string> {
  const e = await cursor.explain().catch(() => ({}) as Document);
  const plan =
    (e.queryPlanner as
      | {
          Plan?: string[] | Document;
          winningPlan?: { stage?: string; inputStage?: { stage?: string; indexName?: string } };
        }
      | undefined) ?? {};
  if (plan.Plan)
    return `${Array.isArray(plan.Plan) ? plan.Plan.join('; ') : postgresPlan(plan.Plan)}; filterPushdown ${String(e.filterPushdown)}, sortPushdown ${String(e.sortPushdown)}`;
  const w = plan.winningPlan;
  return `${w?.stage ?? '?'}${w?.inputStage ? ` ← ${w.inputStage.stage ?? ''} ${w.inputStage.indexName ?? ''}` : ''}`;
}

export interface DatabaseQueries {
  markdown: string;
  /** The database's share of a GET, and of the middle list page as the DCM asks it. */
  getMs: number;
  pageMs: number;
}

export async function databaseQueries(
  db: Db,
  total: number,
  page: { limit: number; offset: number },
  repeats: number,
): Promise<DatabaseQueries> {
  const lcs = db.collection('logicalClouds');
  const all = (collection: string) => db.collection(collection).find({}).toArray();
  // A GET asks for one logical cloud's children by equality.
  const childrenOf = (id: unknown) =>
    Promise.all(
      ['userPermissions', 'clusterReferences'].map((c) => db.collection(c).find({ logicalCloudId: id }).toArray()),
    );
  // A page's children as the DCM asks them: one equality per id, a few at a time (src/db/in-as-equalities.ts).
  const childrenOfPage = (ids: unknown[]) =>
    Promise.all(
      ['userPermissions', 'clusterReferences'].map((c) =>
        findSplittingIn(db.collection(c), { logicalCloudId: { $in: ids } }),
      ),
    );
  const dbGet: { lookup: number; children: number }[] = [];
  for (let i = 0; i < repeats; i++) {
    const lookup = await timed(() =>
      lcs.findOne({ project: PROJECT, name: lcName(Math.floor(Math.random() * total)) }),
    );
    const kids = await timed(() => childrenOf(lookup.value!._id));
    dbGet.push({ lookup: lookup.ms, children: kids.ms });
  }
  // A page as the DCM asks it now: the names (src/db/record-names.ts), then the page's records by name.
  const names = await timed(() =>
    db
      .collection(namesCollectionOf('logicalClouds'))
      .find({ project: PROJECT }, { projection: { _id: 1, name: 1, at: 1 } })
      .toArray(),
  );
  const wanted = names.value
    .map((e) => e.name as string)
    .sort()
    .slice(page.offset, page.offset + page.limit);
  const byName = await timed(() => findSplittingIn(lcs, { project: PROJECT, name: { $in: wanted } }));
  const pageChildren = await timed(() => childrenOfPage(byName.value.map((d) => d._id)));
  // As it was asked before: the records' names (every record decoded), and before that sort, skip and count.
  const recordNames = await timed(() => lcs.find({ project: PROJECT }, { projection: { _id: 0, name: 1 } }).toArray());
  const sorted = await timed(() =>
    Promise.all([
      lcs.find({ project: PROJECT }).sort({ name: 1 }).skip(page.offset).limit(page.limit).toArray(),
      lcs.countDocuments({ project: PROJECT }),
    ]),
  );
  // The fleet follower's periodic turn with no logical cloud selecting (docs/cluster-selection.md): before, and now.
  const turnBefore = await timed(() => Promise.all(['logicalClouds', 'clusterReferences'].map((c) => all(c))));
  const turnNow = await timed(() => Promise.all([lcs.find({ selects: true }).toArray(), all('clusterSelections')]));
  const plans = {
    lookup: await explainOf(lcs.find({ project: PROJECT, name: lcName(1) })),
    names: await explainOf(db.collection(namesCollectionOf('logicalClouds')).find({ project: PROJECT })),
    // (FerretDB's explain refuses a skip.)
    sorted: await explainOf(lcs.find({ project: PROJECT }).sort({ name: 1 }).limit(page.limit)),
    children: await explainOf(db.collection('userPermissions').find({ logicalCloudId: 'x' })),
  };
  const at = `limit=${page.limit} offset=${page.offset}`;
  const markdown = [
    table(
      ['query', 'time'],
      [
        ['GET: findOne logical cloud by {project, name} (random name)', dbGet.map((g) => ms(g.lookup)).join(' / ')],
        [
          'GET: its permissions and cluster references ({logicalCloudId: id}, two queries in parallel)',
          dbGet.map((g) => ms(g.children)).join(' / '),
        ],
        [`list ${at}: the ${names.value.length} name entries of the project (logicalClouds_names)`, ms(names.ms)],
        [`list ${at}: the page's ${page.limit} logical clouds by name (one equality each, 8 at a time)`, ms(byName.ms)],
        [`list ${at}: their permissions and cluster references (one equality per id)`, ms(pageChildren.ms)],
        ['before: the names read from the logical clouds themselves (projection {name})', ms(recordNames.ms)],
        [`before that: find, sort by name, skip, limit, and countDocuments in parallel`, ms(sorted.ms)],
        [
          'selection follower, a periodic turn as before: every logical cloud and every cluster reference',
          ms(turnBefore.ms),
        ],
        ['selection follower, a periodic turn now: {selects: true} and the clusterSelections', ms(turnNow.ms)],
      ],
    ),
    '',
    `Query plans (explain): lookup by name: ${plans.lookup}; name entries: ${plans.names}; sorted page: ${plans.sorted}; a GET's children by equality: ${plans.children}.`,
  ].join('\n');
  return {
    markdown,
    getMs: mean(dbGet.map((g) => g.lookup + g.children)),
    pageMs: names.ms + byName.ms + pageChildren.ms,
  };
}
