package server

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// gatedOP is an oidctest provider whose answers at one endpoint are held
// until the test releases them, and which says when the first request
// there has arrived: slow providers without sleeps.
type gatedOP struct {
	*oidctest.Provider
	srv      *httptest.Server
	path     string
	reached  chan struct{}
	release  chan struct{}
	reachOne sync.Once
	freeOne  sync.Once
}

func newGatedOP(t *testing.T, e oidctest.Endpoint) *gatedOP {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	op, err := oidctest.New(oidctest.Options{
		Issuer:  "http://" + ts.Listener.Addr().String(),
		Clients: []oidctest.Client{{ID: testClientID, Secret: testClientSecret, RedirectURIs: []string{testRedirectAlt}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedOP{Provider: op, srv: ts, path: string(e), reached: make(chan struct{}), release: make(chan struct{})}
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == g.path {
			g.reachOne.Do(func() { close(g.reached) })
			select {
			case <-g.release:
			case <-r.Context().Done():
				return
			}
		}
		op.ServeHTTP(w, r)
	})
	ts.Start()
	t.Cleanup(func() { g.free(); ts.Close() })
	return g
}

func (g *gatedOP) free() { g.freeOne.Do(func() { close(g.release) }) }

// withProvider adds a second provider, "slow", for op.
func withProvider(op *gatedOP) harnessOpt {
	return func(cfg *Config, _ *oidctest.Options) {
		cfg.Providers = append(cfg.Providers, ProviderConfig{
			Name:        "slow",
			RedirectURI: testRedirectAlt, RedirectURIs: []string{testRedirectAlt},
			OIDC: oidc.Config{Name: "slow", Type: "oidc", Issuer: op.Issuer(), ClientID: testClientID, ClientSecret: testClientSecret, Timeout: 5 * time.Second},
		})
	}
}

func (h *harness) readyz() (int, map[string]string) {
	h.t.Helper()
	var body struct {
		Ready     bool              `json:"ready"`
		Providers map[string]string `json:"providers"`
	}
	res := h.get("/readyz", &body)
	if body.Ready != (res.StatusCode == http.StatusOK) {
		h.t.Errorf("readyz: status %d with ready %v", res.StatusCode, body.Ready)
	}
	return res.StatusCode, body.Providers
}

// waitWarm waits until the named provider's warm-up has finished.
func (h *harness) waitWarm(name string) {
	h.t.Helper()
	done := h.srv.providers[name].warm.Load()
	if done == nil {
		h.t.Fatalf("no warm-up for %s", name)
	}
	<-*done
}

func TestReadyzDuringSlowWarmUp(t *testing.T) {
	op := newGatedOP(t, oidctest.DiscoveryEndpoint)
	h := newHarness(t, withProvider(op))
	h.srv.WarmUp(t.Context())
	<-op.reached // the warm-up's discovery is at the provider, held there

	code, status := h.readyz()
	if code != http.StatusServiceUnavailable || status["slow"] != readyLoading {
		t.Fatalf("during warm-up: %d %v", code, status)
	}

	// A login during the warm-up waits for it and shares its fetch.
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		res, err := h.client.Get(h.edge.URL + "/oauth2/url?provider=slow&binding=ready-binding-value-1")
		if err != nil {
			done <- result{err: err}
			return
		}
		res.Body.Close()
		done <- result{code: res.StatusCode}
	}()
	select {
	case r := <-done:
		t.Fatalf("/oauth2/url answered before discovery did: %+v", r)
	default:
	}
	op.free()
	if r := <-done; r.err != nil || r.code != http.StatusOK {
		t.Fatalf("/oauth2/url: %+v", r)
	}
	h.waitWarm("slow")
	if n := op.Requests().Discovery; n != 1 {
		t.Errorf("%d discovery fetches, want 1 shared by the warm-up and the login", n)
	}
	if code, status := h.readyz(); code != http.StatusOK || status["slow"] != readyOK || status["op"] != readyOK {
		t.Errorf("after warm-up: %d %v", code, status)
	}
}

func TestReadyzProviderDown(t *testing.T) {
	h := newHarness(t)
	h.op.SetFaults(oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.DiscoveryEndpoint: http.StatusServiceUnavailable}})
	h.srv.WarmUp(t.Context())
	h.waitWarm("op")
	if code, status := h.readyz(); code != http.StatusServiceUnavailable || status["op"] != readyUnavailable {
		t.Errorf("provider down: %d %v", code, status)
	}
}

// addrLog captures the address Run logs when it listens.
type addrLog struct {
	slog.Handler
	addr chan string
}

func (a addrLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "listening" {
		r.Attrs(func(at slog.Attr) bool {
			if at.Key == "addr" {
				a.addr <- at.Value.String()
			}
			return true
		})
	}
	return a.Handler.Handle(ctx, r)
}

func (a addrLog) WithAttrs(as []slog.Attr) slog.Handler {
	return addrLog{Handler: a.Handler.WithAttrs(as), addr: a.addr}
}

// TestRunShutsDownGracefully: a login in flight when shutdown is asked for
// still gets its tokens, new connections are refused meanwhile, and Run
// returns nil.
func TestRunShutsDownGracefully(t *testing.T) {
	op := newGatedOP(t, oidctest.TokenEndpoint)
	h := newHarness(t, withProvider(op))
	cfg := h.cfg
	cfg.Addr = "127.0.0.1:0"
	logs := addrLog{Handler: slog.NewTextHandler(&syncBuffer{}, nil), addr: make(chan string, 1)}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- Run(ctx, cfg, slog.New(logs), &bytes.Buffer{}) }()
	base := "http://" + <-logs.addr
	client := &http.Client{Timeout: 20 * time.Second}

	var u urlResponse
	res, err := client.Get(base + "/oauth2/url?provider=slow&binding=shutdown-binding-1")
	if err != nil {
		t.Fatal(err)
	}
	decode(t, res, &u)
	cb, err := op.Login(u.URL, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	q := cb.Query()
	body := `{"provider":"slow","code":"` + q.Get("code") + `","state":"` + q.Get("state") + `","iss":"` + q.Get("iss") + `","binding":"shutdown-binding-1"}`
	type answer struct {
		code int
		err  error
	}
	token := make(chan answer, 1)
	go func() {
		res, err := client.Post(base+"/oauth2/token", "application/json", strings.NewReader(body))
		if err != nil {
			token <- answer{err: err}
			return
		}
		res.Body.Close()
		token <- answer{code: res.StatusCode}
	}()
	<-op.reached // the token request is at the provider
	cancel()     // SIGTERM

	// Shutdown closes the listener first: new connections are refused
	// while the login is still in flight.
	for {
		c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			break
		}
		c.Close()
		select {
		case err := <-ran:
			t.Fatalf("Run returned %v with a request in flight", err)
		default:
		}
	}
	select {
	case a := <-token:
		t.Fatalf("the login ended before the provider answered: %+v", a)
	default:
	}
	op.free()
	if a := <-token; a.err != nil || a.code != http.StatusOK {
		t.Errorf("in-flight login: %+v", a)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
	if c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://")); err == nil {
		c.Close()
		t.Error("a connection was accepted after Run returned")
	}
}
