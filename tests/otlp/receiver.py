"""An OTLP/HTTP logs receiver for tests, decoding with the official
`opentelemetry-proto` package (protobuf's own parser and JSON mapping), so
rds-forwarder's encoder is checked by code no one on this project wrote.

    python receiver.py            # prints "PORT <n>" once listening on 127.0.0.1

POST /v1/logs   decodes the request (gzip per Content-Encoding; protobuf or
                JSON per Content-Type), keeps it, answers 200 with an empty
                ExportLogsServiceResponse in the same encoding; 400 when the
                body does not decode.
POST /v1/metrics the same for ExportMetricsServiceRequest (gauges, sums,
                histograms: values, temporality, buckets, times, attributes).
GET /requests   every decoded request so far, as JSON with typed values:
                {"s": str} {"i": int} {"d": float} {"b": bool} {"a": [..]}.
"""

import gzip
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

REQUESTS = []


def typed(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "string_value":
        return {"s": any_value.string_value}
    if kind == "int_value":
        return {"i": any_value.int_value}
    if kind == "double_value":
        return {"d": any_value.double_value}
    if kind == "bool_value":
        return {"b": any_value.bool_value}
    if kind == "array_value":
        return {"a": [typed(v) for v in any_value.array_value.values]}
    return {"other": kind}


def attributes(kvs):
    return [[kv.key, typed(kv.value)] for kv in kvs]


def summarize(req, content_type, encoding):
    out = {"content_type": content_type, "content_encoding": encoding, "resource_logs": []}
    for rl in req.resource_logs:
        for sl in rl.scope_logs:
            out["resource_logs"].append(
                {
                    "resource": attributes(rl.resource.attributes),
                    "scope": {"name": sl.scope.name, "version": sl.scope.version},
                    "records": [
                        {
                            # As text: JSON numbers lose precision past 2^53.
                            "time_unix_nano": str(r.time_unix_nano),
                            "observed_time_unix_nano": str(r.observed_time_unix_nano),
                            "severity_number": int(r.severity_number),
                            "severity_text": r.severity_text,
                            "body": typed(r.body),
                            "attributes": attributes(r.attributes),
                        }
                        for r in sl.log_records
                    ],
                }
            )
    return out


def number_point(p):
    kind = p.WhichOneof("value")
    value = p.as_int if kind == "as_int" else p.as_double
    return {
        "start_time_unix_nano": str(p.start_time_unix_nano),
        "time_unix_nano": str(p.time_unix_nano),
        "attributes": attributes(p.attributes),
        # As text for ints: JSON numbers lose precision past 2^53.
        "value": {"i": str(value)} if kind == "as_int" else {"d": value},
    }


def histogram_point(p):
    return {
        "start_time_unix_nano": str(p.start_time_unix_nano),
        "time_unix_nano": str(p.time_unix_nano),
        "attributes": attributes(p.attributes),
        "count": str(p.count),
        "sum": p.sum if p.HasField("sum") else None,
        "min": p.min if p.HasField("min") else None,
        "max": p.max if p.HasField("max") else None,
        "explicit_bounds": list(p.explicit_bounds),
        "bucket_counts": [str(c) for c in p.bucket_counts],
    }


def summarize_metrics(req, content_type, encoding):
    out = {"content_type": content_type, "content_encoding": encoding, "resource_metrics": []}
    for rm in req.resource_metrics:
        for sm in rm.scope_metrics:
            metrics = []
            for m in sm.metrics:
                kind = m.WhichOneof("data")
                entry = {"name": m.name, "unit": m.unit, "description": m.description, "type": kind}
                if kind == "gauge":
                    entry["points"] = [number_point(p) for p in m.gauge.data_points]
                elif kind == "sum":
                    entry["monotonic"] = m.sum.is_monotonic
                    entry["temporality"] = int(m.sum.aggregation_temporality)
                    entry["points"] = [number_point(p) for p in m.sum.data_points]
                elif kind == "histogram":
                    entry["temporality"] = int(m.histogram.aggregation_temporality)
                    entry["points"] = [histogram_point(p) for p in m.histogram.data_points]
                else:
                    entry["points"] = []
                metrics.append(entry)
            out["resource_metrics"].append(
                {
                    "resource": attributes(rm.resource.attributes),
                    "scope": {"name": sm.scope.name, "version": sm.scope.version},
                    "metrics": metrics,
                }
            )
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/requests":
            return self.reply(404, b"not found", "text/plain")
        self.reply(200, json.dumps(REQUESTS).encode(), "application/json")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        content_type = self.headers.get("Content-Type", "")
        encoding = self.headers.get("Content-Encoding", "")
        kinds = {
            "/v1/logs": (ExportLogsServiceRequest, ExportLogsServiceResponse, summarize),
            "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse, summarize_metrics),
        }
        if self.path not in kinds:
            return self.reply(404, b"not found", "text/plain")
        request_type, response_type, summary = kinds[self.path]
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            req = request_type()
            if content_type == "application/json":
                json_format.Parse(body.decode("utf-8"), req)
                answer = json_format.MessageToJson(response_type()).encode()
            elif content_type == "application/x-protobuf":
                req.ParseFromString(body)
                answer = response_type().SerializeToString()
            else:
                raise ValueError("unexpected Content-Type " + content_type)
        except Exception as e:  # a decoding failure is the test's finding
            REQUESTS.append({"error": repr(e), "content_type": content_type, "path": self.path})
            return self.reply(400, repr(e).encode(), "text/plain")
        REQUESTS.append(summary(req, content_type, encoding))
        self.reply(200, answer, content_type)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
