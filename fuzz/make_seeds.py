#!/usr/bin/env python3
"""Rebuilds fuzz/seeds/<target>/ from the repo fixtures (stdlib only).

Seeds are small on purpose (libFuzzer's default max length follows the
largest seed): a few events per corpus kind, the example and RDS event
fixtures, documented format lines (shared/formats/README.md, quoted as
facts about formats), and hand-made WhaTap records. Run from anywhere:
    python3 fuzz/make_seeds.py
"""
import base64, gzip, hashlib, json, pathlib, struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"

FORMAT_LINES = [
    "2022-10-05 19:05:19 UTC:52.95.4.1(6461):postgres@labdb:[6144]:LOG: duration: 167.754 ms",
    "2022-10-05 22:05:56 UTC:52.95.4.1(11335):postgres@labdb:[3639]:ERROR: syntax error at or near \"ORDER\" at character 1",
    "2019-08-08 00:49:34 UTC:10.40.77.242(56266):xyz@xyz_db:[20474]:LOG:  duration: 5.076 ms  statement: SELECT col1, col2\n\tFROM sample1 JOIN sample2 ON sample1.id = sample2.id",
    "2020-08-06T14:25:02.936146Z 0 [Warning] [MY-010068] [Server] CA certificate /var/mysql/sslinfo/cacert.pem is self signed.",
    "2023-04-27 14:36:09 14487 [Warning] Access denied for user 'dev'@'1.2.3.4' (using password: YES)",
    "# Time: 210122 18:04:41\n# User@Host: admin[admin] @  [172.31.74.90]  Id:   274\n# Query_time: 0.000193  Lock_time: 0.000093 Rows_sent: 1  Rows_examined: 1\nuse db;\nSET timestamp=1611338681;\nselect * from colors where id = 1;",
    "2021-08-10T09:57:26.077268Z    2 Query\tSELECT durable_lsn FROM t",
    "20221201 14:07:05,ip-10-22-1-51,rdsadmin,localhost,821,0,CONNECT,,,0,SOCKET",
    "1603438736650167,database-1-instance-1,admin,1.34.6.81,30,964317,QUERY,world,'create database mysqldemo',0",
    "2024-05-23 06:09:53.813 Logon       Login failed for user 'john'. Reason: Password did not match that for the login provided. [CLIENT: 213.252.232.134]",
    "2025-05-30T12:28:53.383Z [INFO] Database \"database-4\" at 172.31.1.99:3306 is now available for read/write access from 172.31.46.36. Version: MySQL: 8.0.41.",
    "2025-08-11T04:00:05,804 [ERROR] Failed to authenticate the connection request for user 'testuser'",
]


def write(target, name, data):
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


def corpus_docs():
    for p in sorted((ROOT / "tests/data/corpus/payloads").glob("*/*-0000.json")):
        event = json.loads(p.read_text())
        doc = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
        yield p.parent.name, doc


def main():
    # decode_event: first byte 0 = raw Lambda event, 1 = decompressed document.
    for p in sorted((ROOT / "examples").glob("*.json")):
        write("decode_event", "example-" + p.stem, b"\0" + p.read_bytes())
    for kind, doc in corpus_docs():
        small = dict(doc, logEvents=doc["logEvents"][:4])
        write("decode_event", "doc-" + kind, b"\1" + json.dumps(small).encode())
        # parse_message: single messages, and a few joined by U+001E.
        msgs = [e["message"] for e in doc["logEvents"][:40]]
        for i, m in enumerate(msgs[:12]):
            write("parse_message", f"{kind}-{i:02}", m)
        write("parse_message", f"{kind}-joined", "\u001e".join(msgs[12:18]))
    for i, line in enumerate(FORMAT_LINES):
        write("parse_message", f"format-{i:02}", line)
    # rds_event: the EventBridge samples.
    for p in sorted((ROOT / "tests/data/events").glob("*.json")):
        write("rds_event", p.stem, p.read_bytes())
    # whatap_roundtrip: see fuzz_support::record_from_bytes for the layout.
    def rec(ts, sev, *chunks):
        return struct.pack("<q", ts) + bytes([sev]) + b"\xff".join(c.encode() for c in chunks)
    write("whatap_roundtrip", "log", rec(1718000000123456789, 9, "LOG: checkpoint", "id-1", "db-1", "postgresql", "k", "a", "n", "\x01xy"))
    write("whatap_roundtrip", "event", rec(-5, 17, "failover", "id-2", "db-2", "", "e", "\x05RDS-EVENT-0004", "d", "\x02abc"))
    write("whatap_roundtrip", "array", rec(0, 13, "x" * 300, "", "", "error", "a", "\x04a,b,c", "b", "\x03"))


if __name__ == "__main__":
    main()
