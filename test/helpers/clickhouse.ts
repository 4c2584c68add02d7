// The launcher lives in src/sim so that benchmarks (which run dist/) start ClickHouse the same way.
export { CLICKHOUSE_BIN, freePort, startClickHouse, type ClickHouseOptions, type ClusterReplica, type TestClickHouse } from '../../src/sim/clickhouse-server.js';
