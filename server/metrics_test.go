package server

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/statecodec"
)

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape GETs /metrics and parses its samples.
func (h *harness) scrape() []sample {
	h.t.Helper()
	res, err := h.client.Get(h.edge.URL + "/metrics")
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		h.t.Fatalf("GET /metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var out []sample
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		s := sample{labels: map[string]string{}}
		head, val, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '}'); i > 0 {
			head, val = line[:i+1], strings.TrimSpace(line[i+1:])
		}
		name, labels, _ := strings.Cut(head, "{")
		s.name = name
		for _, kv := range splitLabels(strings.TrimSuffix(labels, "}")) {
			k, v, _ := strings.Cut(kv, "=")
			s.labels[k], _ = strconv.Unquote(v)
		}
		s.value, err = strconv.ParseFloat(strings.Fields(val)[0], 64)
		if err != nil {
			h.t.Fatalf("metrics line %q: %v", line, err)
		}
		out = append(out, s)
	}
	return out
}

// splitLabels splits a="x",b="y" at the commas between pairs (our label
// values hold no quotes or commas).
func splitLabels(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// value sums the samples of name whose labels include want; found is
// false when there is none.
func value(samples []sample, name string, want map[string]string) (sum float64, found bool) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		sum, found = sum+s.value, true
	}
	return sum, found
}

func TestMetricsAfterLogin(t *testing.T) {
	rcv := newReceiver(t, func(n int) (int, string) {
		if n == 1 {
			return http.StatusServiceUnavailable, `{}`
		}
		return http.StatusOK, `{"user_id":"42"}`
	})
	h := newHarness(t, withHook(rcv.srv.URL, 2))
	u := h.start("binding=metrics-binding-value-1")
	body := tokenBody(h.login(u.URL, "ada@example.com"))
	body["binding"] = "metrics-binding-value-1"
	var tr tokenResponse
	if res := h.post("/oauth2/token", body, &tr); res.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", res.StatusCode)
	}
	if res := h.post("/oauth2/refresh", map[string]string{"refresh": tr.API.Refresh}, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d", res.StatusCode)
	}
	if res := h.post("/oauth2/token", map[string]string{"provider": "op", "code": "c", "state": "not-a-state"}, nil); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad state: %d", res.StatusCode)
	}
	// A path that matches no route must not become a label.
	if res, err := h.client.Get(h.edge.URL + "/no/such/path/12345"); err == nil {
		res.Body.Close()
	}
	// HEAD works too.
	if res, err := h.client.Head(h.edge.URL + "/metrics"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("HEAD /metrics: %v %v", res, err)
	}

	m := h.scrape()
	want := []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"edgeauth_logins_total", map[string]string{"endpoint": "token", "provider": "op", "outcome": "ok"}, 1},
		{"edgeauth_logins_total", map[string]string{"endpoint": "refresh", "provider": "op", "outcome": "ok"}, 1},
		{"edgeauth_logins_total", map[string]string{"endpoint": "token", "provider": "op", "outcome": "invalid_state"}, 1},
		{"edgeauth_http_request_duration_seconds_count", map[string]string{"route": "/oauth2/token", "method": "POST", "status": "200"}, 1},
		{"edgeauth_http_request_duration_seconds_count", map[string]string{"route": "/oauth2/url", "method": "GET", "status": "200"}, 1},
		{"edgeauth_http_request_duration_seconds_count", map[string]string{"route": "(no route)", "method": "GET", "status": "404"}, 1},
		{"edgeauth_provider_request_duration_seconds_count", map[string]string{"provider": "op", "endpoint": "discovery", "outcome": "ok"}, 1},
		{"edgeauth_provider_request_duration_seconds_count", map[string]string{"provider": "op", "endpoint": "jwks", "outcome": "ok"}, 1},
		{"edgeauth_provider_request_duration_seconds_count", map[string]string{"provider": "op", "endpoint": "token", "outcome": "ok"}, 2}, // code and refresh
		{"edgeauth_jwks_refreshes_total", map[string]string{"provider": "op", "outcome": "ok"}, 1},
		{"edgeauth_userhook_requests_total", map[string]string{"outcome": "allowed"}, 2},
		{"edgeauth_userhook_request_duration_seconds_count", nil, 2},
		{"edgeauth_userhook_retries_total", nil, 1},
		{"edgeauth_state_rejections_total", map[string]string{"reason": "malformed"}, 1},
		{"go_goroutines", nil, 1},
		{"process_resident_memory_bytes", nil, 1},
	}
	for _, w := range want {
		if v, ok := value(m, w.name, w.labels); !ok || v < w.min {
			t.Errorf("%s%v = %v (found %v), want at least %v", w.name, w.labels, v, ok, w.min)
		}
	}
	for _, s := range m {
		if strings.Contains(s.labels["route"], "12345") {
			t.Errorf("a raw path became a route label: %v", s.labels)
		}
	}
}

func TestMetricsStateRejections(t *testing.T) {
	h := newHarness(t)
	other, _, err := statecodec.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := statecodec.New([]statecodec.Key{other})
	if err != nil {
		t.Fatal(err)
	}
	unknownKey, err := foreign.Seal(purposeState, flowState{Provider: "op", Seed: newSeed()}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	expired := h.start("binding=metrics-binding-value-2").State
	h.clock.Advance(h.cfg.StateTTL + time.Second)

	cases := []struct {
		name, state, reason string
		code                Code
	}{
		{"malformed", "a.b.c", "malformed", CodeInvalidState},
		{"unknown key", unknownKey, "unknown_key", CodeInvalidState},
		{"expired", expired, "expired", CodeExpiredState},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := value(h.scrape(), "edgeauth_state_rejections_total", map[string]string{"reason": tc.reason})
			var p Problem
			res := h.post("/oauth2/token", map[string]string{"provider": "op", "code": "c", "state": tc.state, "binding": "metrics-binding-value-2"}, &p)
			if res.StatusCode != http.StatusBadRequest || p.Code != tc.code {
				t.Fatalf("%d %+v", res.StatusCode, p)
			}
			// The client learns nothing finer than before.
			if tc.code == CodeInvalidState && strings.Contains(strings.ToLower(p.Detail), "unknown") {
				t.Errorf("detail %q gives the reason away", p.Detail)
			}
			after, _ := value(h.scrape(), "edgeauth_state_rejections_total", map[string]string{"reason": tc.reason})
			if after != before+1 {
				t.Errorf("%s: %v -> %v", tc.reason, before, after)
			}
		})
	}
}

// TestMetricsNotRateLimited: scrapes never use up a client's budget.
func TestMetricsNotRateLimited(t *testing.T) {
	h := newHarness(t, withRateLimit(1, time.Hour))
	for range 5 {
		res, err := h.client.Get(h.edge.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %d", res.StatusCode)
		}
	}
}

// TestStatusLabel: the label is strconv.Itoa for every status.
func TestStatusLabel(t *testing.T) {
	for status := 100; status < 600; status++ {
		if got, want := statusLabel(status), strconv.Itoa(status); got != want {
			t.Errorf("statusLabel(%d) = %q", status, got)
		}
	}
}
