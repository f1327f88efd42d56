// Makes golden TagCountPack frames (tests/data/whatap/vectors/tagcount-query and tagcount-os)
// with WhaTap's own Go library, github.com/whatap/golib (unmodified, v0.0.45):
// each input becomes a pack.TagCountPack (PutTag for every tag, Put with an
// int64 or a float64 for every field) sent by golib's real oneway
// OneWayTcpClient to a listener on 127.0.0.1; the captured stream is cut into
// frames by their length field.
//
//	go run main.go inputs.json > cases.json   (GOPATH mode; see ../README.md)
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"

	"github.com/whatap/golib/lang/pack"
	"github.com/whatap/golib/net/oneway"
	"github.com/whatap/golib/util/hash"
)

type put struct {
	Key        string          `json:"key"`
	Via        string          `json:"via,omitempty"`
	Type       string          `json:"type,omitempty"`
	GoType     string          `json:"go_type,omitempty"`
	Value      json.RawMessage `json:"value"`
	DoubleBits string          `json:"double_bits,omitempty"`
}

type input struct {
	Pack     string `json:"pack"`
	License  string `json:"license"`
	Pcode    int64  `json:"pcode"`
	Oname    string `json:"oname"`
	Oid      int32  `json:"oid"`
	Okind    int32  `json:"okind"`
	Onode    int32  `json:"onode"`
	Time     int64  `json:"time"`
	Category string `json:"category"`
	Tags     []put  `json:"tags"`
	Fields   []put  `json:"fields"`
}

type kase struct {
	Name     string          `json:"name"`
	Input    json.RawMessage `json:"input"`
	FrameHex string          `json:"frame_hex"`
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	raw, err := os.ReadFile(os.Args[1])
	must(err)
	var cases []kase
	must(json.Unmarshal(raw, &cases))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	got := make(chan []byte)
	go func() {
		conn, err := ln.Accept()
		must(err)
		b, err := io.ReadAll(conn)
		must(err)
		got <- b
	}()

	var first input
	must(json.Unmarshal(cases[0].Input, &first))
	client := oneway.GetOneWayTcpClient(
		oneway.WithServers([]string{ln.Addr().String()}),
		oneway.WithLicense(first.License),
		oneway.WithPcode(first.Pcode),
	)
	for _, c := range cases {
		var in input
		must(json.Unmarshal(c.Input, &in))
		if in.License != first.License || in.Oid != hash.HashStr(in.Oname) {
			must(fmt.Errorf("%s: one licence per run, oid = HashStr(oname)", c.Name))
		}
		p := pack.NewTagCountPack()
		p.Pcode = in.Pcode
		p.Oid = hash.HashStr(in.Oname)
		p.Okind = in.Okind
		p.Onode = in.Onode
		p.Time = in.Time
		p.Category = in.Category
		for _, t := range in.Tags {
			var s string
			must(json.Unmarshal(t.Value, &s))
			p.PutTag(t.Key, s)
		}
		for _, f := range in.Fields {
			switch f.GoType {
			case "int64":
				v, err := strconv.ParseInt(string(f.Value), 10, 64)
				must(err)
				p.Put(f.Key, v)
			case "float64":
				bits, err := strconv.ParseUint(f.DoubleBits, 16, 64)
				must(err)
				p.Put(f.Key, math.Float64frombits(bits))
			default:
				must(fmt.Errorf("%s: go_type %q", c.Name, f.GoType))
			}
		}
		must(client.SendFlush(p, true))
	}
	must(client.Close())
	stream := <-got

	// Frame: u8 source, u8 version, i64 pcode, i64 licence hash, i32 length, body.
	for i := range cases {
		if len(stream) < 22 {
			must(fmt.Errorf("stream ends before frame %d", i))
		}
		n := 22 + int(int32(uint32(stream[18])<<24|uint32(stream[19])<<16|uint32(stream[20])<<8|uint32(stream[21])))
		cases[i].FrameHex = hex.EncodeToString(stream[:n])
		stream = stream[n:]
	}
	if len(stream) != 0 {
		must(fmt.Errorf("%d bytes after the last frame", len(stream)))
	}
	out, err := json.MarshalIndent(cases, "", " ")
	must(err)
	os.Stdout.Write(append(out, '\n'))
}
