package statecodec_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// benchPayload is the size of the server's flow state: about 80 bytes.
var benchPayload = json.RawMessage(`{"s":"` + strings.Repeat("A", 43) + `","p":"google","b":"` + strings.Repeat("B", 9) + `"}`)

func BenchmarkSeal(b *testing.B) {
	c := newCodec(b, &clock{now: t0}, testKey(b, 1), testKey(b, 2))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Seal("s", benchPayload, 10*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	c := newCodec(b, &clock{now: t0}, testKey(b, 1), testKey(b, 2))
	tok, err := c.Seal("s", benchPayload, 10*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var v json.RawMessage
		if err := c.Open("s", tok, &v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenInvalid is the cost of refusing garbage, which anyone can
// send: it must stay far below a successful Open.
func BenchmarkOpenInvalid(b *testing.B) {
	c := newCodec(b, &clock{now: t0}, testKey(b, 1))
	tok, err := c.Seal("s", benchPayload, 10*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	bad := tok[:20] + "." + tok[20:]
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Open("s", bad, nil); err == nil {
			b.Fatal("opened")
		}
	}
}

// BenchmarkSealStruct seals the server's flow state as a struct, the way
// the server calls Seal.
func BenchmarkSealStruct(b *testing.B) {
	c := newCodec(b, &clock{now: t0}, testKey(b, 1))
	fs := flow{Seed: strings.Repeat("A", 43), Provider: "google", Binding: strings.Repeat("B", 22)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Seal("s", fs, 10*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
