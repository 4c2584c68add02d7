import type { ClickHouseHttp } from './http.js';
import type { Tables } from './schema.js';
import { Sql } from './sql.js';
import type { Features } from './version.js';

/** What every query module needs: the connection, the table names, the server's features. */
export interface Ctx {
  http: ClickHouseHttp;
  tables: Tables;
  features: Features;
}

/** A fresh value binder for one statement. */
export const newSql = (ctx: Ctx): Sql => new Sql(ctx.features.queryParams, ctx.features.regexPrefilterIgnoresFlags);
