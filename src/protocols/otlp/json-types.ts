/**
 * OTLP logs in the JSON mapping's shape (camelCase, 64-bit integers as decimal strings, ids as
 * hex), as the otlp sink builds them; the protobuf encoding is made from the same objects.
 */
export interface AnyValue { stringValue?: string; intValue?: string; arrayValue?: { values: AnyValue[] } }
export interface KeyValue { key: string; value: AnyValue }
export interface LogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber?: number;
  severityText?: string;
  body: AnyValue;
  attributes: KeyValue[];
  traceId?: string;
  spanId?: string;
}
export interface ResourceLogs { resource: { attributes: KeyValue[] }; scopeLogs: Array<{ scope: { name: string }; logRecords: LogRecord[] }> }
export interface ExportLogsRequest { resourceLogs: ResourceLogs[] }
