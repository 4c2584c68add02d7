import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/**
 * The agent's metrics, on one registry per agent instance (tests run several agents in
 * one process). Every drop, truncation or malformed line lands in one of these counters.
 */
export class AgentMetrics {
  readonly registry = new Registry();

  /**
   * The process's own figures (resident memory, V8 heap, external memory, event loop lag,
   * open descriptors): once per process, by the agent process itself, not by in-process
   * agents in tests.
   */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }
  readonly eventsIn = this.counter('loggy_source_events_total', 'Events produced by a source', ['component']);
  readonly bytesIn = this.counter('loggy_source_bytes_total', 'Bytes read from inputs', ['component']);
  readonly truncated = this.counter('loggy_lines_truncated_total', 'Lines longer than max_line_bytes, truncated and flagged', ['component']);
  readonly malformed = this.counter('loggy_lines_malformed_total', 'Lines not in the file format, delivered raw and flagged', ['component']);
  readonly partialFlushed = this.counter('loggy_partial_lines_flushed_total', 'Partial lines flushed without their end (file closed mid-line)', ['component']);
  readonly replaySkipped = this.counter('loggy_replay_events_skipped_total', 'Events re-read after a restart and skipped because already acknowledged', ['component']);
  /** Every push source (http, otlp) counts here: one family, told apart by `component`. */
  readonly httpRequests = this.counter('loggy_http_source_requests_total', 'Push requests to an http or otlp source: accepted, or refused by reason (too_large, unauthorized, invalid, content_type, backpressure, shutdown, ack_timeout, ...)', ['component', 'result']);
  readonly sourceRejected = this.counter('loggy_source_rejected_events_total', 'Records a source refused on their own while taking the rest of their request (otlp: invalid log records, answered as a partial success)', ['component', 'reason']);
  readonly syslogDropped = this.counter('loggy_syslog_source_dropped_total', 'Syslog messages a syslog source received and dropped: UDP datagrams while the pipeline was full (backpressure) or the source stopping (stopping)', ['component', 'reason']);
  readonly syslogConnections = this.gauge('loggy_syslog_source_connections', 'Open TCP connections to a syslog source', ['component']);
  readonly syslogConnectionsRefused = this.counter('loggy_syslog_source_connections_refused_total', 'TCP connections a syslog source closed at once because max_connections were open', ['component']);
  readonly journaldErrors = this.counter('loggy_journald_errors_total', 'Failures of a journald source: journalctl not found (not_found) or not startable (spawn), the journal unreadable (unreadable), journalctl exiting (exited); each logged and retried with backoff', ['component', 'reason']);
  readonly filesOpened = this.counter('loggy_files_opened_total', 'Files opened for tailing', ['component']);
  readonly filesClosed = this.counter('loggy_files_closed_total', 'Files drained and closed', ['component', 'reason']);
  readonly filesOpen = this.gauge('loggy_files_open', 'Files currently open', ['component']);
  readonly truncations = this.counter('loggy_file_truncations_total', 'Files that shrank under the read offset (copytruncate); re-read from the start', ['component']);
  readonly fileErrors = this.counter('loggy_file_errors_total', 'I/O errors on inputs', ['component']);
  readonly watchFallback = this.gauge('loggy_watch_fallback', '1 when fs.watch is unavailable (e.g. inotify exhausted) and discovery relies on polling', ['component']);
  readonly lostBytes = this.counter('loggy_lost_bytes_total', 'Bytes of files deleted before they were read to the end (at least this many; the file is logged)', ['component']);
  readonly filesLost = this.counter('loggy_files_lost_total', 'Files deleted while the agent was not reading them, before they were known to be read to the end (each logged with where the loss starts)', ['component']);
  readonly rotationGaps = this.counter('loggy_rotation_gaps_total', 'Containers found with every file the agent knew deleted and newer ones on disk: files created and deleted while it was not reading may be lost (each logged)', ['component']);
  readonly filesRecovered = this.counter('loggy_files_recovered_total', 'Compressed rotated files (.gz) read from their copy: unfinished ones after a restart, and ones the agent never saw', ['component']);
  readonly checkpointErrors = this.counter('loggy_checkpoint_errors_total', 'Checkpoint files found corrupt or not writable', ['component', 'kind']);
  readonly sinkEvents = this.counter('loggy_sink_events_total', 'Events delivered by a sink', ['component']);
  readonly sinkBytes = this.counter('loggy_sink_bytes_total', 'Bytes written by a sink', ['component']);
  readonly sinkTruncated = this.counter('loggy_sink_truncated_events_total', 'Events a sink cut to fit its maximum message size (syslog: max_message_bytes)', ['component']);
  readonly sinkResent = this.counter('loggy_sink_resent_events_total', 'Events a sink wrote again after its connection broke, because the receiver may not have read them (syslog: resend_window)', ['component']);
  readonly sinkRejected = this.counter('loggy_sink_rejected_events_total', 'Events a receiver refused for good (4xx); logged with the reason', ['component']);
  readonly deadLettered = this.counter('loggy_dead_letter_events_total', 'Events refused for good by a receiver and written to the dead-letter file', ['component']);
  readonly deadLetterDropped = this.counter('loggy_dead_letter_dropped_events_total', 'Refused events not kept: dead-letter file full, unwritable, or disabled', ['component']);
  readonly sinkErrors = this.counter('loggy_sink_errors_total', 'Failed sink writes (retried)', ['component']);
  readonly diskBufferBytes = this.gauge('loggy_disk_buffer_bytes', 'Bytes in a sink disk buffer, not yet delivered', ['component']);
  readonly diskBufferDropped = this.counter('loggy_disk_buffer_dropped_events_total', 'Events dropped from a full disk buffer (when_full: drop_oldest)', ['component']);
  readonly diskBufferCorrupt = this.counter('loggy_disk_buffer_corrupt_records_total', 'Disk buffer records that could not be read back (torn by a crash) and were skipped', ['component']);
  readonly bufferDropped = this.counter('loggy_buffer_dropped_events_total', 'Events a sink dropped because its memory buffer was full (when_full: drop_newest)', ['component']);
  readonly bufferBytes = this.gauge('loggy_buffer_bytes', 'Bytes held in a sink memory buffer', ['component']);
  readonly rateLimited = this.counter('loggy_rate_limited_events_total', 'Events dropped by a rate_limit transform, per container', ['component', 'namespace', 'pod', 'container']);
  readonly kubePods = this.gauge('loggy_kube_pods', 'Pods in the metadata cache (deleted ones kept while their logs are read included)', ['component']);
  readonly kubeWatchUp = this.gauge('loggy_kube_watch_up', '1 while the watch on the Kubernetes API (pods, namespaces) is connected', ['component', 'resource']);
  readonly kubeApiErrors = this.counter('loggy_kube_api_errors_total', 'Failed list or watch calls to the Kubernetes API (retried with backoff)', ['component', 'resource']);
  readonly kubeRelists = this.counter('loggy_kube_relists_total', 'Full lists (pods, namespaces): the first, and one after every 410 Gone', ['component', 'resource']);
  readonly kubeMetadataMissing = this.counter('loggy_kube_metadata_missing_events_total', 'Events passed on with path labels only: their pod was not in the cache', ['component']);
  readonly checkpointLagBytes = this.gauge('loggy_checkpoint_lag_bytes', 'Bytes read from files but not yet acknowledged by every sink (a restart would read them again)', ['component']);
  readonly checkpointLagSeconds = this.gauge('loggy_checkpoint_lag_seconds', 'Age of the oldest batch read but not yet acknowledged (0: none waits)', ['component']);
  readonly configReloads = this.counter('loggy_config_reloads_total', 'Configuration file changes: applied (success) or refused and the old configuration kept (failure)', ['result']);
  readonly parsed = this.counter('loggy_parsed_events_total', 'Events a parse transform extracted fields from', ['component', 'parser']);
  readonly parseFailed = this.counter('loggy_parse_failures_total', 'Events a parse transform could not parse: delivered as they were, flagged parse_failed', ['component', 'parser']);
  readonly annotationErrors = this.counter('loggy_kube_annotation_errors_total', 'Pod annotations (loggy.io/*) with a value the agent cannot use: ignored, logged once per pod', ['component', 'annotation']);
  readonly transformDropped = this.counter('loggy_transform_dropped_total', 'Events dropped on purpose by a transform', ['component']);

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** Sum of a counter over all label values, for summaries and tests. */
  async total(name: string): Promise<number> {
    const m = await this.registry.getSingleMetric(name)?.get();
    return m ? m.values.reduce((a, v) => a + v.value, 0) : 0;
  }
}
