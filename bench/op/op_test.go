package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/server"
)

// The in-process half of bench/run: allocations and CPU per request of
// edgeauth itself, counted by the Go runtime. The provider runs in a child
// process (this test binary, re-executed), so its work is not counted; the
// authorization step at the provider runs with the timer stopped. Logging
// is on (JSON, info) into io.Discard, as in production but for the write.
//
//	go test -run '^$' -bench . -benchmem ./bench/op/

const childEnv = "EDGEAUTH_BENCH_OP_CHILD"

func TestMain(m *testing.M) {
	if redirect := os.Getenv(childEnv); redirect != "" {
		if err := run("127.0.0.1:0", []string{redirect}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const benchRedirect = "http://127.0.0.1:1/callback" // never called: the test reads the redirect

// startEdge starts the provider child and an in-process edgeauth configured
// for it, and returns edgeauth's handler.
func startEdge(b *testing.B) http.Handler {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+benchRedirect)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	issuer, ok := strings.CutPrefix(strings.TrimSpace(line), "issuer ")
	if err != nil || !ok {
		b.Fatalf("provider did not start: %q %v", line, err)
	}

	var keys bytes.Buffer
	if err := server.Keygen(&keys, "ES256", false); err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(keys.String(), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			b.Setenv(k, strings.Trim(v, "'"))
		}
	}
	for k, v := range map[string]string{
		"EDGEAUTH_ADDR": "127.0.0.1:0", "EDGEAUTH_PUBLIC_URL": "http://127.0.0.1:1",
		"EDGEAUTH_ENV": "development", "EDGEAUTH_RATE_LIMIT": "0", "EDGEAUTH_LOG_LEVEL": "info",
		"EDGEAUTH_PROVIDERS": provider, "EDGEAUTH_BENCH_ISSUER": issuer,
		"EDGEAUTH_BENCH_CLIENT_ID": clientID, "EDGEAUTH_BENCH_CLIENT_SECRET": clientSecret,
		"EDGEAUTH_BENCH_REDIRECT_URI": benchRedirect, "EDGEAUTH_LOG_FORMAT": "json",
	} {
		b.Setenv(k, v)
	}
	cfg, err := server.LoadConfig(os.Getenv, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(cfg, server.Options{Logger: server.NewLogger(cfg, io.Discard)})
	if err != nil {
		b.Fatal(err)
	}
	return srv.Handler()
}

// BenchmarkURL is GET /oauth2/url with the binding parameter (no cookie).
func BenchmarkURL(b *testing.B) {
	h := startEdge(b)
	startLogin(b, h) // warm: discovery fetched
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		startLogin(b, h)
	}
}

// BenchmarkLogin is a whole login as edgeauth sees it: GET /oauth2/url and
// POST /oauth2/token (code exchange, ID-token verification with the JWKS
// cached, userinfo, mint), no webhook.
func BenchmarkLogin(b *testing.B) {
	h := startEdge(b)
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	finishLogin(b, h, client, startLogin(b, h)) // warm: discovery, JWKS, connections
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		u := startLogin(b, h)
		finishLogin(b, h, client, u)
	}
}

const benchBinding = "bench-binding-0123456789abcdef"

// startLogin calls GET /oauth2/url; only the handler runs with the timer on.
func startLogin(b *testing.B, h http.Handler) string {
	b.StopTimer()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/oauth2/url?provider="+provider+"&binding="+benchBinding, nil)
	b.StartTimer()
	h.ServeHTTP(rec, req)
	b.StopTimer()
	defer b.StartTimer()
	if rec.Code != http.StatusOK {
		b.Fatalf("GET /oauth2/url: %d %s", rec.Code, rec.Body)
	}
	var u struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &u); err != nil {
		b.Fatal(err)
	}
	return u.URL
}

// finishLogin signs in at the provider (timer stopped) and redeems the code.
func finishLogin(b *testing.B, h http.Handler, client *http.Client, authURL string) {
	b.StopTimer()
	au, err := url.Parse(authURL)
	if err != nil {
		b.Fatal(err)
	}
	form := au.Query()
	form.Set("email", "bench@example.com")
	au.RawQuery = ""
	res, err := client.PostForm(au.String(), form)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	cb, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound || cb.Query().Get("code") == "" {
		b.Fatalf("provider login: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	q := cb.Query()
	body, _ := json.Marshal(map[string]string{
		"provider": provider, "code": q.Get("code"), "state": q.Get("state"), "iss": q.Get("iss"), "binding": benchBinding,
	})
	req := httptest.NewRequest(http.MethodPost, "/oauth2/token", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = net.JoinHostPort("127.0.0.1", "1234")
	rec := httptest.NewRecorder()
	b.StartTimer()
	h.ServeHTTP(rec, req)
	b.StopTimer()
	defer b.StartTimer()
	if rec.Code != http.StatusOK {
		b.Fatalf("POST /oauth2/token: %d %s", rec.Code, rec.Body)
	}
}

// BenchmarkLoginHTTP is BenchmarkLogin through a real loopback HTTP server,
// for a CPU profile that includes net/http's side of edgeauth (focus on
// net/http.(*conn).serve). Its allocations include the client's.
func BenchmarkLoginHTTP(b *testing.B) {
	edge := httptest.NewServer(startEdge(b))
	b.Cleanup(edge.Close)
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := client.Get(edge.URL + "/oauth2/url?provider=" + provider + "&binding=" + benchBinding)
		if err != nil {
			b.Fatal(err)
		}
		var u struct {
			URL string `json:"url"`
		}
		err = json.NewDecoder(res.Body).Decode(&u)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("GET /oauth2/url: %d %v", res.StatusCode, err)
		}
		au, err := url.Parse(u.URL)
		if err != nil {
			b.Fatal(err)
		}
		form := au.Query()
		form.Set("email", "bench@example.com")
		au.RawQuery = ""
		res, err = client.PostForm(au.String(), form)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		cb, err := url.Parse(res.Header.Get("Location"))
		if err != nil || res.StatusCode != http.StatusFound {
			b.Fatalf("provider login: %d", res.StatusCode)
		}
		q := cb.Query()
		body, _ := json.Marshal(map[string]string{
			"provider": provider, "code": q.Get("code"), "state": q.Get("state"), "iss": q.Get("iss"), "binding": benchBinding,
		})
		res, err = client.Post(edge.URL+"/oauth2/token", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("POST /oauth2/token: %d", res.StatusCode)
		}
	}
}
