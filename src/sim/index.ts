/**
 * A kubelet-like writer of container logs: real files, symlinks, rotations, restarts and
 * pod churn, with a marker in every message so a receiver can check exactly-once and order.
 */
export { startSimulation, type Simulation, type SimulationOptions } from './node.js';
export type { Manifest, ManifestEntry } from './manifest.js';
export { MARKER_RE, marker, DEFAULT_MIX, type MessageMix, type Style } from './messages.js';
export { MAX_RECORD_BYTES, encodeCri, encodeDocker, formatCriTime, formatDockerTime, type LogFormat } from './encode.js';
