package userhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSendSignedForEverySecret(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		secrets []string // what the receiver checks, each on its own
	}{
		{"one secret", secretA, []string{secretA}},
		{"rotation: two secrets", secretA + " " + secretB, []string{secretA, secretB}},
		{"extra whitespace", "  " + secretB + "\t" + secretA + " ", []string{secretA, secretB}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, tc.secrets, allow)
			c := newTestClient(t, Config{URL: rc.URL, Secret: tc.secret})
			dec, err := c.Send(t.Context(), testEvent)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			want := Decision{Allowed: true, UserID: "user-1", Claims: map[string]any{"role": "member"}, Attempts: 1}
			if !reflect.DeepEqual(dec, want) {
				t.Errorf("decision = %+v, want %+v", dec, want)
			}
			got := rc.deliveries()
			if len(got) != 1 {
				t.Fatalf("%d deliveries, want 1", len(got))
			}
			d := got[0]
			if n := len(strings.Split(d.Signature, " ")); n != len(tc.secrets) {
				t.Errorf("signature header %q has %d values, want %d separated by one space", d.Signature, n, len(tc.secrets))
			}
			if !strings.HasPrefix(d.ID, "msg_") || len(d.ID) < 20 {
				t.Errorf("webhook-id = %q, want msg_ and a random part", d.ID)
			}
			if d.ContentType != "application/json" {
				t.Errorf("Content-Type = %q", d.ContentType)
			}
			if !strings.HasPrefix(d.UserAgent, "edgeauth-userhook/") {
				t.Errorf("User-Agent = %q", d.UserAgent)
			}
		})
	}
}

func TestSendBodyShape(t *testing.T) {
	rc := newReceiver(t, []string{secretA}, allow)
	c := newTestClient(t, Config{URL: rc.URL})
	if _, err := c.Send(t.Context(), testEvent); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(rc.deliveries()[0].Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"type":      "user.login",
		"timestamp": "2026-01-02T03:04:05Z",
		"data": map[string]any{
			"provider": "google", "issuer": "https://accounts.google.com", "subject": "1234567890",
			"email": "ada@example.com", "email_verified": true, "name": "Ada",
			"picture": "https://example.com/a.png",
			"claims":  map[string]any{"sub": "1234567890", "hd": "example.com"}, "userinfo": nil,
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body = %v\nwant   %v", got, want)
	}
}

func TestSendFillsZeroTimestamp(t *testing.T) {
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.FixedZone("X", 3600))
	type seen struct{ header, body string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e Event
		_ = json.NewDecoder(r.Body).Decode(&e)
		ts, _ := json.Marshal(e.Timestamp)
		got <- seen{r.Header.Get(HeaderTimestamp), string(ts)}
		allow(0, w, r)
	}))
	defer srv.Close()
	c := newTestClient(t, Config{URL: srv.URL, Now: func() time.Time { return now }})
	e := testEvent
	e.Timestamp = time.Time{}
	if _, err := c.Send(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	s := <-got
	if s.header != fmt.Sprint(now.Unix()) {
		t.Errorf("webhook-timestamp = %s, want the injected clock's %d", s.header, now.Unix())
	}
	if s.body != `"2030-05-06T06:08:09Z"` {
		t.Errorf("event timestamp = %s, want the clock's time in UTC", s.body)
	}
}

func TestSendNoRetryOnOtherStatuses(t *testing.T) {
	for _, status := range []int{201, 204, 400, 401, 404, 405, 409, 410, 413, 422} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			rc := newReceiver(t, []string{secretA}, func(_ int, w http.ResponseWriter, _ *http.Request) {
				reply(w, status, `{"user_id":"1"}`)
			})
			c := newTestClient(t, Config{URL: rc.URL})
			_, err := c.Send(t.Context(), testEvent)
			var he *Error
			if !errors.As(err, &he) || he.Reason != ReasonStatus || he.Status != status || he.Attempts != 1 {
				t.Fatalf("err = %v, want status %d after 1 attempt", err, status)
			}
			if !errors.Is(err, ErrUnavailable) {
				t.Error("error does not match ErrUnavailable")
			}
			if n := len(rc.deliveries()); n != 1 {
				t.Errorf("%d requests, want one", n)
			}
		})
	}
}

func TestSendRedirectNotFollowed(t *testing.T) {
	target := newReceiver(t, []string{secretA}, allow)
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			rc := newReceiver(t, []string{secretA}, func(_ int, w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL, status)
			})
			// A caller's client that would follow redirects: New must override it.
			c := newTestClient(t, Config{URL: rc.URL, HTTPClient: &http.Client{}})
			_, err := c.Send(t.Context(), testEvent)
			var he *Error
			if !errors.As(err, &he) || he.Reason != ReasonRedirect || he.Status != status || he.Attempts != 1 {
				t.Fatalf("err = %v, want redirect %d after 1 attempt", err, status)
			}
		})
	}
	if n := len(target.deliveries()); n != 0 {
		t.Errorf("redirect target got %d requests, want 0", n)
	}
}

func TestSendCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	block := blockUntilGone(t)
	rc := newReceiver(t, []string{secretA}, func(_ int, _ http.ResponseWriter, r *http.Request) {
		cancel() // the person closed the tab while the hook thinks
		block(r)
	})
	c := newTestClient(t, Config{URL: rc.URL})
	_, err := c.Send(ctx, testEvent)
	var he *Error
	if !errors.As(err, &he) || he.Reason != ReasonCanceled || !errors.Is(err, context.Canceled) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want canceled", err)
	}
	if n := len(rc.deliveries()); n != 1 {
		t.Errorf("%d attempts after cancel, want 1", n)
	}
}

func TestSendNetworkError(t *testing.T) {
	t.Run("connection dropped, then answered", func(t *testing.T) {
		rc := newReceiver(t, []string{secretA}, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 0 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				conn.Close()
				return
			}
			allow(n, w, r)
		})
		c := newTestClient(t, Config{URL: rc.URL})
		dec, err := c.Send(t.Context(), testEvent)
		if err != nil || !dec.Allowed {
			t.Fatalf("Send = %+v, %v; want allowed after a retry", dec, err)
		}
		if got := rc.deliveries(); len(got) != 2 || got[0].ID != got[1].ID || dec.Attempts != 2 {
			t.Errorf("%d deliveries, %d attempts: want 2 with one id", len(got), dec.Attempts)
		}
	})
	t.Run("refused: no URL or secret in the error", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		c := newTestClient(t, Config{URL: "http://user:pw-hunter2@" + addr + "/hook?token=hunter2", Retries: new(0)})
		_, err = c.Send(t.Context(), testEvent)
		var he *Error
		if !errors.As(err, &he) || he.Reason != ReasonNetwork || he.Attempts != 1 || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("err = %v, want network (connection refused) after 1 attempt", err)
		}
		msg := err.Error()
		if strings.Contains(msg, "hunter2") || strings.Contains(msg, secretA[6:]) {
			t.Errorf("error text leaks a credential: %s", msg)
		}
		if !strings.Contains(msg, "network") || !strings.Contains(msg, "connection refused") {
			t.Errorf("error text %q does not say what failed", msg)
		}
	})
}

func TestSendBodyLimit(t *testing.T) {
	pad := func(prefix string, n int) string { return prefix + strings.Repeat(" ", n-len(prefix)) }
	tests := []struct {
		name   string
		status int
		body   string
		reason Reason
	}{
		{"200 at the limit", 200, pad(`{"user_id":"u"}`, MaxResponseBytes), ""},
		{"200 one byte over", 200, pad(`{"user_id":"u"}`, MaxResponseBytes+1), ReasonOversized},
		{"200 far over", 200, pad(`{"user_id":"u"}`, 10*MaxResponseBytes), ReasonOversized},
		{"403 over", 403, pad(`{"message":"no"}`, MaxResponseBytes+1), ReasonOversized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, []string{secretA}, func(_ int, w http.ResponseWriter, _ *http.Request) {
				reply(w, tc.status, tc.body)
			})
			c := newTestClient(t, Config{URL: rc.URL})
			_, err := c.Send(t.Context(), testEvent)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			var he *Error
			if !errors.As(err, &he) || he.Reason != tc.reason || he.Attempts != 1 || he.Status != tc.status {
				t.Fatalf("err = %v, want %q after 1 attempt", err, tc.reason)
			}
		})
	}
}

func TestSendDecisions(t *testing.T) {
	long := strings.Repeat("é", 1000)
	tests := []struct {
		name   string
		status int
		body   string
		want   Decision
		reason Reason // non-empty: want an *Error with this reason
	}{
		{"allowed, string id", 200, `{"user_id":"42"}`, Decision{Allowed: true, UserID: "42"}, ""},
		{"allowed, integer id kept exactly", 200, `{"user_id":12345678901234567890}`, Decision{Allowed: true, UserID: "12345678901234567890"}, ""},
		{"allowed, claims keep big numbers", 200, `{"user_id":"u","claims":{"n":9007199254740993,"role":"admin","tags":["a"]}}`,
			Decision{Allowed: true, UserID: "u", Claims: map[string]any{"n": json.Number("9007199254740993"), "role": "admin", "tags": []any{"a"}}}, ""},
		{"allowed, null claims", 200, `{"user_id":"u","claims":null}`, Decision{Allowed: true, UserID: "u"}, ""},
		{"allowed, unknown fields ignored", 200, `{"user_id":"u","next":"x"}`, Decision{Allowed: true, UserID: "u"}, ""},
		{"denied with message", 403, `{"message":"  Sign-ups from\n\texample.org\u0000 are \u202eclosed.  "}`,
			Decision{Message: "Sign-ups from example.org are closed."}, ""},
		{"denied, long message cut", 403, `{"message":"` + long + `"}`, Decision{Message: strings.Repeat("é", MaxMessageRunes-1) + "…"}, ""},
		{"denied, no body", 403, ``, Decision{}, ""},
		{"denied, HTML body not echoed", 403, `<h1>Forbidden</h1>`, Decision{}, ""},
		{"denied, message not a string", 403, `{"message":{"a":1}}`, Decision{}, ""},
		{"malformed: empty", 200, ``, Decision{}, ReasonMalformed},
		{"malformed: not JSON", 200, `user-1`, Decision{}, ReasonMalformed},
		{"malformed: array", 200, `[{"user_id":"u"}]`, Decision{}, ReasonMalformed},
		{"malformed: no user_id", 200, `{"claims":{}}`, Decision{}, ReasonMalformed},
		{"malformed: empty user_id", 200, `{"user_id":""}`, Decision{}, ReasonMalformed},
		{"malformed: blank user_id", 200, `{"user_id":"  "}`, Decision{}, ReasonMalformed},
		{"malformed: null user_id", 200, `{"user_id":null}`, Decision{}, ReasonMalformed},
		{"malformed: bool user_id", 200, `{"user_id":true}`, Decision{}, ReasonMalformed},
		{"malformed: fractional user_id", 200, `{"user_id":4.2}`, Decision{}, ReasonMalformed},
		{"malformed: exponent user_id", 200, `{"user_id":1e3}`, Decision{}, ReasonMalformed},
		{"malformed: control char in user_id", 200, `{"user_id":"a\nb"}`, Decision{}, ReasonMalformed},
		{"malformed: long user_id", 200, `{"user_id":"` + strings.Repeat("x", 256) + `"}`, Decision{}, ReasonMalformed},
		{"malformed: claims array", 200, `{"user_id":"u","claims":["role"]}`, Decision{}, ReasonMalformed},
		{"malformed: claims string", 200, `{"user_id":"u","claims":"admin"}`, Decision{}, ReasonMalformed},
		{"malformed: trailing data", 200, `{"user_id":"u"}{"user_id":"v"}`, Decision{}, ReasonMalformed},
		{"malformed: truncated", 200, `{"user_id":"u"`, Decision{}, ReasonMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, []string{secretA}, func(_ int, w http.ResponseWriter, _ *http.Request) {
				reply(w, tc.status, tc.body)
			})
			c := newTestClient(t, Config{URL: rc.URL})
			dec, err := c.Send(t.Context(), testEvent)
			if tc.reason != "" {
				var he *Error
				if !errors.As(err, &he) || he.Reason != tc.reason || he.Attempts != 1 {
					t.Fatalf("err = %v, want %q after 1 attempt without retry", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			tc.want.Attempts = 1
			if !reflect.DeepEqual(dec, tc.want) {
				t.Errorf("decision = %#v\nwant       %#v", dec, tc.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"valid", Config{URL: "https://api.example.com/hook", Secret: secretA}, true},
		{"valid http, two secrets", Config{URL: "http://127.0.0.1:9/h", Secret: secretA + " " + secretB}, true},
		{"no URL", Config{Secret: secretA}, false},
		{"relative URL", Config{URL: "/hook", Secret: secretA}, false},
		{"ftp URL", Config{URL: "ftp://h/x", Secret: secretA}, false},
		{"no host", Config{URL: "https:///x", Secret: secretA}, false},
		{"empty secret", Config{URL: "https://h/", Secret: ""}, false},
		{"blank secret", Config{URL: "https://h/", Secret: "   "}, false},
		{"prefix only", Config{URL: "https://h/", Secret: "whsec_"}, false},
		{"no prefix", Config{URL: "https://h/", Secret: secretA[6:]}, false},
		{"not base64", Config{URL: "https://h/", Secret: "whsec_not*base64!secret-value"}, false},
		{"URL-safe base64", Config{URL: "https://h/", Secret: "whsec_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-"}, false},
		{"short key", Config{URL: "https://h/", Secret: "whsec_c2hvcnRrZXk="}, false},
		{"second secret bad", Config{URL: "https://h/", Secret: secretA + " whsec_%%%%"}, false},
		{"negative timeout", Config{URL: "https://h/", Secret: secretA, Timeout: -1}, false},
		{"negative deadline", Config{URL: "https://h/", Secret: secretA, Deadline: -1}, false},
		{"too many retries", Config{URL: "https://h/", Secret: secretA, Retries: new(MaxRetries + 1)}, false},
		{"negative retries", Config{URL: "https://h/", Secret: secretA, Retries: new(-1)}, false},
		{"most retries", Config{URL: "https://h/", Secret: secretA, Retries: new(MaxRetries)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New err = %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				for _, f := range strings.Fields(tc.cfg.Secret) {
					if len(f) > 6 && strings.Contains(err.Error(), f[6:]) {
						t.Errorf("error %q echoes the secret", err)
					}
				}
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	tests := []struct {
		name              string
		cfg               Config
		timeout, deadline time.Duration
		retries           int
	}{
		{"zero", Config{}, 5 * time.Second, 15 * time.Second, 2},
		{"short timeout", Config{Timeout: time.Second}, time.Second, 3 * time.Second, 2},
		{"capped", Config{Timeout: 4 * time.Second, Retries: new(5)}, 4 * time.Second, MaxDefaultDeadline, 5},
		{"long timeout", Config{Timeout: 20 * time.Second}, 20 * time.Second, 20 * time.Second, 2},
		{"no retries", Config{Retries: new(0)}, 5 * time.Second, 5 * time.Second, 0},
		{"explicit default", Config{Retries: new(DefaultRetries)}, 5 * time.Second, 15 * time.Second, 2},
		{"explicit deadline", Config{Deadline: time.Second}, 5 * time.Second, time.Second, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.URL, tc.cfg.Secret = "https://h/", secretA
			c, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if c.timeout != tc.timeout || c.deadline != tc.deadline || c.retries != tc.retries {
				t.Errorf("timeout %v deadline %v retries %d; want %v %v %d", c.timeout, c.deadline, c.retries, tc.timeout, tc.deadline, tc.retries)
			}
		})
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"0", 0}, {"7", 7 * time.Second}, {"-1", 0}, {"1.5", 0}, {"x", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Second).Format(http.TimeFormat), 0},
		{"Thursday, 01-Jan-26 00:00:30 GMT", 30 * time.Second}, // RFC 850, obsolete but allowed
	}
	for _, tc := range tests {
		if got := retryAfter(tc.in, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := retryAfter("99999999999999999999", now); got < time.Hour {
		t.Errorf("huge Retry-After = %v, want very long", got)
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Reason: ReasonStatus, Status: 503, Attempts: 3, ID: "msg_x"},
			"userhook: unavailable after 3 attempt(s): status 503"},
		{&Error{Reason: ReasonMalformed, Status: 200, Attempts: 1, Err: errors.New("user_id missing")},
			"userhook: unavailable after 1 attempt(s): malformed body (status 200): user_id missing"},
		{&Error{Reason: ReasonNetwork, Attempts: 3, Err: syscall.ECONNREFUSED},
			"userhook: unavailable after 3 attempt(s): network: connection refused"},
		{&Error{Reason: ReasonRedirect, Status: 302, Attempts: 1},
			"userhook: unavailable after 1 attempt(s): redirect 302"},
		{&Error{Reason: ReasonRetryAfter, Status: 429, Attempts: 1},
			"userhook: unavailable after 1 attempt(s): retry-after beyond deadline (status 429)"},
		{&Error{Reason: ReasonCanceled, Status: 500, Attempts: 2, Err: context.Canceled},
			"userhook: unavailable after 2 attempt(s): canceled (last status 500): context canceled"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q\nwant      %q", got, tc.want)
		}
	}
}

// BenchmarkSend measures one delivery to a local receiver that answers at once: the
// overhead the hook adds to a login, minus the backend's own work.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		reply(w, http.StatusOK, `{"user_id":"user-1","claims":{"role":"member"}}`)
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, Secret: secretA})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Send(b.Context(), testEvent); err != nil {
			b.Fatal(err)
		}
	}
}
