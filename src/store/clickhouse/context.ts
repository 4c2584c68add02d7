import type { ClickHouseHttp, Params } from './http.js';
import type { DdlRunner, Tables } from './schema.js';
import { Sql } from './sql.js';
import type { Features } from './version.js';

/** What every query module needs: the connection, the table names, the server's features. */
export interface Ctx {
  http: ClickHouseHttp;
  tables: Tables;
  features: Features;
  /** DDL and ALTERs: ON CLUSTER on a cluster. */
  ddl: DdlRunner;
  /** Settings of every INSERT (on a cluster: synchronous Distributed inserts). */
  insertSettings: Params;
  /** Releases the connection pool of the TLS settings, if any (at close). */
  release?: () => Promise<void>;
}

/** A fresh value binder for one statement. */
export const newSql = (ctx: Ctx): Sql => new Sql(ctx.features.queryParams, ctx.features.regexPrefilterIgnoresFlags);
