/**
 * The OTLP logs messages the otlp sink sends and reads back, as protobufjs reflection: the
 * parts of opentelemetry-proto (collector/logs/v1/logs_service.proto, logs/v1/logs.proto,
 * common/v1/common.proto, resource/v1/resource.proto) that are used, with their field numbers.
 * Field names are camelCase here (protobufjs' default), as in OTLP's JSON mapping.
 */
import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs';

export const OTLP_LOGS_PROTO = `syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Resource { repeated KeyValue attributes = 1; }
message LogRecord {
  fixed64 time_unix_nano = 1;
  int32 severity_number = 2;    // the SeverityNumber enum on the wire: a varint
  string severity_text = 3;
  AnyValue body = 5;
  repeated KeyValue attributes = 6;
  fixed32 flags = 8;
  bytes trace_id = 9;
  bytes span_id = 10;
  fixed64 observed_time_unix_nano = 11;
}
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2; }
message ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1; }
`;

let cached: { request: Protobuf.Type; response: Protobuf.Type } | undefined;

/** The request and response types; protobufjs is loaded on first use only. */
export function otlpLogsTypes(): { request: Protobuf.Type; response: Protobuf.Type } {
  if (!cached) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as typeof Protobuf;
    const root = protobuf.parse(OTLP_LOGS_PROTO).root;
    root.resolveAll();
    cached = { request: root.lookupType('otlp.ExportLogsServiceRequest'), response: root.lookupType('otlp.ExportLogsServiceResponse') };
  }
  return cached;
}
