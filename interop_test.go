package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/statecodec"
)

// TestJoseInterop checks statecodec's direct compact JWE against a second,
// independent implementation: npm jose (compactDecrypt, CompactEncrypt),
// run by node from .ci/interop. jose opens what the codec seals, with the
// header and plaintext the format says, and the codec opens what jose
// seals, in either header member order.
func TestJoseInterop(t *testing.T) {
	const dir = ".ci/interop"
	node := nodeProject(t, dir, "jose", "the jose interop test needs Node.js 20.19+ with npm")

	secret := bytes.Repeat([]byte{7}, statecodec.KeySize)
	keys, err := statecodec.ParseKeys(base64.RawURLEncoding.EncodeToString(secret))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	codec, err := statecodec.New(keys, statecodec.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	exp := now.Add(time.Hour).Unix()

	type flow struct {
		Seed     string `json:"s"`
		Provider string `json:"p"`
		Binding  string `json:"b,omitempty"`
	}
	payloads := []flow{
		{Seed: strings.Repeat("A", 43), Provider: "google", Binding: "<&>"},
		{Seed: strings.Repeat("é", 1500), Provider: "x"},
	}
	type opening struct {
		Token string `json:"token"`
		Typ   string `json:"typ"`
	}
	type sealing struct {
		Typ       string `json:"typ"`
		Plaintext string `json:"plaintext"`
		Reorder   bool   `json:"reorder"`
	}
	req := struct {
		Key  string    `json:"key"`
		Kid  string    `json:"kid"`
		Open []opening `json:"open"`
		Seal []sealing `json:"seal"`
	}{Key: base64.RawURLEncoding.EncodeToString(secret), Kid: keys[0].ID}
	var wantPlain []string
	for _, p := range payloads {
		tok, err := codec.Seal("s", p, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		req.Open = append(req.Open, opening{tok, "s"})
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		// Seal writes < and & as they are (no HTML escaping).
		b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte(`\u003c`), []byte("<")), []byte(`\u0026`), []byte("&"))
		b = bytes.ReplaceAll(b, []byte(`\u003e`), []byte(">"))
		plain := `{"e":` + jsonNumber(exp) + `,"p":` + string(b) + `}`
		wantPlain = append(wantPlain, plain)
		req.Seal = append(req.Seal, sealing{"s", plain, false}, sealing{"s", plain, true})
	}
	// A tampered token must not open in jose either: the test could not
	// fail otherwise.
	seg := strings.Split(req.Open[0].Token, ".")
	if seg[3][0] == 'A' {
		seg[3] = "B" + seg[3][1:]
	} else {
		seg[3] = "A" + seg[3][1:]
	}
	req.Open = append(req.Open, opening{strings.Join(seg, "."), "s"})

	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "jose.js")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node jose.js: %v\n%s", err, stderr.String())
	}
	var res struct {
		Opened []struct {
			Header    map[string]string `json:"header"`
			Plaintext string            `json:"plaintext"`
			Error     string            `json:"error"`
		} `json:"opened"`
		Sealed []string `json:"sealed"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("jose.js answered %q: %v", out, err)
	}
	if len(res.Opened) != len(req.Open) || len(res.Sealed) != len(req.Seal) {
		t.Fatalf("jose.js opened %d of %d and sealed %d of %d", len(res.Opened), len(req.Open), len(res.Sealed), len(req.Seal))
	}

	wantHeader := map[string]string{"alg": "dir", "enc": "A256GCM", "kid": keys[0].ID, "typ": "s"}
	for i, want := range wantPlain {
		o := res.Opened[i]
		if o.Error != "" {
			t.Errorf("jose refused the codec's token %d: %s", i, o.Error)
			continue
		}
		if len(o.Header) != len(wantHeader) {
			t.Errorf("token %d: header %v, want %v", i, o.Header, wantHeader)
		}
		for k, v := range wantHeader {
			if o.Header[k] != v {
				t.Errorf("token %d: header %s = %q, want %q", i, k, o.Header[k], v)
			}
		}
		if o.Plaintext != want {
			t.Errorf("token %d: jose read %s, want %s", i, o.Plaintext, want)
		}
	}
	if o := res.Opened[len(res.Opened)-1]; o.Error == "" {
		t.Errorf("jose opened a tampered token: %s", o.Plaintext)
	}

	for i, tok := range res.Sealed {
		var got flow
		if err := codec.Open("s", tok, &got); err != nil {
			t.Errorf("Open(jose token %d, reorder %v) = %v", i, req.Seal[i].Reorder, err)
			continue
		}
		if want := payloads[i/2]; got != want {
			t.Errorf("jose token %d: got %+v, want %+v", i, got, want)
		}
		if err := codec.Open("r", tok, nil); err != statecodec.ErrInvalid {
			t.Errorf("jose token %d opened for another purpose: %v", i, err)
		}
	}
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
