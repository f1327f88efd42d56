"""An OTLP/HTTP logs receiver for tests, decoding with the official
`opentelemetry-proto` package (protobuf's own parser and JSON mapping), so
rds-forwarder's encoder is checked by code no one on this project wrote.

    python receiver.py            # prints "PORT <n>" once listening on 127.0.0.1

POST /v1/logs   decodes the request (gzip per Content-Encoding; protobuf or
                JSON per Content-Type), keeps it, answers 200 with an empty
                ExportLogsServiceResponse in the same encoding; 400 when the
                body does not decode.
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
        if self.path != "/v1/logs":
            return self.reply(404, b"not found", "text/plain")
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            req = ExportLogsServiceRequest()
            if content_type == "application/json":
                json_format.Parse(body.decode("utf-8"), req)
                answer = json_format.MessageToJson(ExportLogsServiceResponse()).encode()
            elif content_type == "application/x-protobuf":
                req.ParseFromString(body)
                answer = ExportLogsServiceResponse().SerializeToString()
            else:
                raise ValueError("unexpected Content-Type " + content_type)
        except Exception as e:  # a decoding failure is the test's finding
            REQUESTS.append({"error": repr(e), "content_type": content_type})
            return self.reply(400, repr(e).encode(), "text/plain")
        REQUESTS.append(summarize(req, content_type, encoding))
        self.reply(200, answer, content_type)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
