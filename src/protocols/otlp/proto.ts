/**
 * The OTLP logs messages, as protobufjs reflection: the parts of opentelemetry-proto
 * (collector/logs/v1/logs_service.proto, logs/v1/logs.proto, common/v1/common.proto,
 * resource/v1/resource.proto) that Loggy sends or reads, with their field numbers, plus
 * google.rpc.Status, the body of OTLP/HTTP error answers. Field names are camelCase here
 * (protobufjs' default), as in OTLP's JSON mapping.
 *
 * Fields Loggy does not map (dropped counts, schema URLs, flags) are declared anyway: a field a
 * decoder does not know is skipped, but one it knows under the wrong wire type would be
 * misread, so the declarations follow the upstream protos exactly where they exist.
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
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message LogRecord {
  fixed64 time_unix_nano = 1;
  int32 severity_number = 2;    // the SeverityNumber enum on the wire: a varint
  string severity_text = 3;
  AnyValue body = 5;
  repeated KeyValue attributes = 6;
  uint32 dropped_attributes_count = 7;
  fixed32 flags = 8;
  bytes trace_id = 9;
  bytes span_id = 10;
  fixed64 observed_time_unix_nano = 11;
  string event_name = 12;
}
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2; }
message ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1; }
message Status { int32 code = 1; string message = 2; }
`;

export interface OtlpLogsTypes {
  request: Protobuf.Type;
  response: Protobuf.Type;
  /** google.rpc.Status without `details` (OTLP/HTTP error bodies; the spec makes details optional). */
  status: Protobuf.Type;
}

let cached: OtlpLogsTypes | undefined;

/** The request, response and status types; protobufjs is loaded on first use only. */
export function otlpLogsTypes(): OtlpLogsTypes {
  if (!cached) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as typeof Protobuf;
    const root = protobuf.parse(OTLP_LOGS_PROTO).root;
    root.resolveAll();
    cached = {
      request: root.lookupType('otlp.ExportLogsServiceRequest'),
      response: root.lookupType('otlp.ExportLogsServiceResponse'),
      status: root.lookupType('otlp.Status'),
    };
  }
  return cached;
}
