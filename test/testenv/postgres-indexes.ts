/**
 * GIN companions of FerretDB's indexes, kept by PostgreSQL itself (an event trigger).
 *
 * FerretDB v1.24 pushes an equality on a top-level field down as `_jsonb->$1 @> $2`, but indexes
 * the field with a B-tree on `(_jsonb->'field')`: `@>` is no B-tree operator, so every pushed-down
 * lookup is a sequential scan of the table (docs/database.md). A GIN index (`jsonb_path_ops`) on the
 * same expression does serve `@>`; with `plan_cache_mode=force_custom_plan` (postgres.ts) the
 * planner sees the key `$1` as the constant `'field'` and matches the index expression.
 *
 * So for every field of a B-tree index FerretDB makes on one of its tables, this makes a GIN index
 * on `(_jsonb->'field')` in the same transaction (and drops those no B-tree index asks for any
 * more after a DROP INDEX). FerretDB does not see them: it keeps its indexes in its own metadata
 * table; a collection's drop drops its table and, with it, the companions. Nested keys
 * (`_jsonb->'a'->'b'`) get none: FerretDB v1 does not push dotted paths down.
 */

/** The SQL that installs it (idempotent) in FerretDB's database and indexes the tables already there. */
export const GIN_COMPANIONS_SQL = String.raw`
CREATE OR REPLACE FUNCTION public.dcm_gin_companions(target oid) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  tbl record;
  wanted text[];
  field text;
  idx_name text;
  companion record;
BEGIN
  SELECT n.nspname AS schema, c.relname AS name INTO tbl
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = target AND c.relkind = 'r' AND c.relname NOT LIKE '\_ferretdb\_%';
  IF NOT FOUND THEN RETURN; END IF;
  -- The top-level fields of the table's B-tree indexes: key expressions (_jsonb -> 'field'::text).
  SELECT coalesce(array_agg(DISTINCT replace(m[1], '''''', '''')), '{}') INTO wanted
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
  CROSS JOIN LATERAL generate_series(1, i.indnkeyatts) AS k
  CROSS JOIN LATERAL regexp_match(pg_get_indexdef(i.indexrelid, k, true), '^\(?_jsonb -> ''((?:[^'']|'''')*)''::text\)?$') AS m
  WHERE i.indrelid = target AND m IS NOT NULL;
  FOREACH field IN ARRAY wanted LOOP
    idx_name := left(tbl.name, 40) || '_' || left(md5(field), 10) || '_dcmgin';
    IF to_regclass(format('%I.%I', tbl.schema, idx_name)) IS NULL THEN
      EXECUTE format('CREATE INDEX %I ON %I.%I USING gin ((_jsonb -> %L) jsonb_path_ops) WITH (fastupdate = off)',
        idx_name, tbl.schema, tbl.name, field);
    END IF;
  END LOOP;
  FOR companion IN
    SELECT ic.relname AS name FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE i.indrelid = target AND ic.relname LIKE '%\_dcmgin'
      AND NOT EXISTS (SELECT 1 FROM unnest(wanted) f
                      WHERE ic.relname = left(tbl.name, 40) || '_' || left(md5(f), 10) || '_dcmgin')
  LOOP
    EXECUTE format('DROP INDEX %I.%I', tbl.schema, companion.name);
  END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION public.dcm_gin_companions_on_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  target oid;
BEGIN
  IF current_setting('dcm.gin_companions', true) = 'busy' THEN RETURN; END IF;
  PERFORM set_config('dcm.gin_companions', 'busy', true);
  IF tg_event = 'ddl_command_end' THEN
    FOR target IN
      SELECT DISTINCT i.indrelid FROM pg_event_trigger_ddl_commands() cmd
      JOIN pg_index i ON i.indexrelid = cmd.objid
      WHERE cmd.object_type = 'index'
    LOOP
      PERFORM public.dcm_gin_companions(target);
    END LOOP;
  ELSE
    FOR target IN
      SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname IN (
        SELECT d.schema_name FROM pg_event_trigger_dropped_objects() d WHERE d.object_type = 'index')
    LOOP
      PERFORM public.dcm_gin_companions(target);
    END LOOP;
  END IF;
  PERFORM set_config('dcm.gin_companions', '', true);
END
$fn$;

DROP EVENT TRIGGER IF EXISTS dcm_gin_companions_created;
CREATE EVENT TRIGGER dcm_gin_companions_created ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION public.dcm_gin_companions_on_ddl();
DROP EVENT TRIGGER IF EXISTS dcm_gin_companions_dropped;
CREATE EVENT TRIGGER dcm_gin_companions_dropped ON sql_drop WHEN TAG IN ('DROP INDEX')
  EXECUTE FUNCTION public.dcm_gin_companions_on_ddl();

DO $do$ BEGIN
  PERFORM public.dcm_gin_companions(c.oid) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
  WHERE c.relkind = 'r' AND a.attname = '_jsonb' AND NOT a.attisdropped;
END $do$;
`;
