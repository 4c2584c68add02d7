// The launcher lives in src/sim so that benchmarks (which run dist/) start ClickHouse the same way.
export { CLICKHOUSE_BIN, startClickHouse, type TestClickHouse } from '../../src/sim/clickhouse-server.js';
