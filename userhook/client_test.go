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
			c, _ := newTestClient(t, Config{URL: rc.URL, Secret: tc.secret})
			dec, err := c.Send(t.Context(), testEvent)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			want := Decision{Allowed: true, UserID: "user-1", Claims: map[string]any{"role": "member"}}
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
	c, _ := newTestClient(t, Config{URL: rc.URL})
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
	c, _ := newTestClient(t, Config{URL: srv.URL, Now: func() time.Time { return now }})
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

func TestSendRetries(t *testing.T) {
	tests := []struct {
		name      string
		retries   int
		answers   []int // status per attempt; the last repeats
		attempts  int
		wantErr   bool
		retryWait int // waits recorded
	}{
		{"500 then 200", 0, []int{500, 200}, 2, false, 1},
		{"502, 503 then 200", 0, []int{502, 503, 200}, 3, false, 2},
		{"429 then 200", 0, []int{429, 200}, 2, false, 1},
		{"500 exhausts default retries", 0, []int{500}, 3, true, 2},
		{"NoRetries", NoRetries, []int{500}, 1, true, 0},
		{"five retries", 5, []int{503}, 6, true, 5},
		{"403 after 500 is a decision", 0, []int{500, 403}, 2, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, []string{secretA}, func(n int, w http.ResponseWriter, r *http.Request) {
				status := tc.answers[min(n, len(tc.answers)-1)]
				if status == 200 {
					allow(n, w, r)
					return
				}
				reply(w, status, `{"message":"no"}`)
			})
			c, s := newTestClient(t, Config{URL: rc.URL, Retries: tc.retries})
			_, err := c.Send(t.Context(), testEvent)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			got := rc.deliveries()
			if len(got) != tc.attempts {
				t.Fatalf("%d attempts, want %d", len(got), tc.attempts)
			}
			for i, d := range got {
				if d.ID != got[0].ID {
					t.Errorf("attempt %d webhook-id %q, want the first attempt's %q", i+1, d.ID, got[0].ID)
				}
			}
			if err != nil {
				var he *Error
				if !errors.As(err, &he) || he.Reason != ReasonStatus || he.Attempts != tc.attempts || he.ID != got[0].ID {
					t.Errorf("err = %#v, want *Error status after %d attempts", err, tc.attempts)
				}
			}
			waits := s.waits()
			if len(waits) != tc.retryWait {
				t.Fatalf("waits = %v, want %d", waits, tc.retryWait)
			}
			for i, w := range waits {
				base := min(backoffBase<<i, backoffMax)
				if w < base/2 || w > base {
					t.Errorf("wait %d = %v, want jittered within [%v, %v]", i+1, w, base/2, base)
				}
			}
		})
	}
}

func TestSendNoRetryOnOtherStatuses(t *testing.T) {
	for _, status := range []int{201, 204, 400, 401, 404, 405, 409, 410, 413, 422} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			rc := newReceiver(t, []string{secretA}, func(_ int, w http.ResponseWriter, _ *http.Request) {
				reply(w, status, `{"user_id":"1"}`)
			})
			c, s := newTestClient(t, Config{URL: rc.URL})
			_, err := c.Send(t.Context(), testEvent)
			var he *Error
			if !errors.As(err, &he) || he.Reason != ReasonStatus || he.Status != status || he.Attempts != 1 {
				t.Fatalf("err = %v, want status %d after 1 attempt", err, status)
			}
			if !errors.Is(err, ErrUnavailable) {
				t.Error("error does not match ErrUnavailable")
			}
			if n := len(rc.deliveries()); n != 1 || len(s.waits()) != 0 {
				t.Errorf("%d requests, waits %v: want one request, no wait", n, s.waits())
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
			c, _ := newTestClient(t, Config{URL: rc.URL, HTTPClient: &http.Client{}})
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

func TestSendRetryAfter(t *testing.T) {
	now := time.Now().Truncate(time.Second) // the reference verifier uses the real clock
	tests := []struct {
		name       string
		status     int
		retryAfter string
		deadline   time.Duration
		wantWait   time.Duration // 0: expect no retry
		wantReason Reason
	}{
		{"429 seconds", 429, "2", 10 * time.Second, 2 * time.Second, ""},
		{"503 seconds", 503, "1", 10 * time.Second, time.Second, ""},
		{"429 HTTP-date", 429, now.Add(3 * time.Second).UTC().Format(http.TimeFormat), 10 * time.Second, 3 * time.Second, ""},
		{"429 date in the past: backoff", 429, now.Add(-time.Hour).UTC().Format(http.TimeFormat), 10 * time.Second, -1, ""},
		{"429 garbage: backoff", 429, "soon", 10 * time.Second, -1, ""},
		{"429 beyond deadline: give up at once", 429, "120", 10 * time.Second, 0, ReasonRetryAfter},
		{"429 huge value", 429, "99999999999999999999", 10 * time.Second, 0, ReasonRetryAfter},
		{"503 date beyond deadline", 503, now.Add(time.Minute).UTC().Format(http.TimeFormat), 5 * time.Second, 0, ReasonRetryAfter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, []string{secretA}, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 0 {
					w.Header().Set("Retry-After", tc.retryAfter)
					reply(w, tc.status, "")
					return
				}
				allow(n, w, r)
			})
			c, s := newTestClient(t, Config{URL: rc.URL, Deadline: tc.deadline, Now: func() time.Time { return now }})
			start := time.Now()
			dec, err := c.Send(t.Context(), testEvent)
			waits := s.waits()
			if tc.wantReason != "" {
				var he *Error
				if !errors.As(err, &he) || he.Reason != tc.wantReason || he.Status != tc.status || he.Attempts != 1 {
					t.Fatalf("err = %v, want %q after 1 attempt", err, tc.wantReason)
				}
				if len(waits) != 0 || time.Since(start) > time.Second {
					t.Errorf("waited %v (%v): want to give up at once", waits, time.Since(start))
				}
				return
			}
			if err != nil || !dec.Allowed {
				t.Fatalf("Send = %+v, %v; want allowed after a retry", dec, err)
			}
			if len(waits) != 1 {
				t.Fatalf("waits = %v, want one", waits)
			}
			if tc.wantWait > 0 && waits[0] != tc.wantWait {
				t.Errorf("wait = %v, want Retry-After's %v", waits[0], tc.wantWait)
			}
			if tc.wantWait < 0 && (waits[0] < backoffBase/2 || waits[0] > backoffBase) {
				t.Errorf("wait = %v, want the first backoff", waits[0])
			}
		})
	}
}

func TestSendTimeouts(t *testing.T) {
	t.Run("slow first attempt is retried", func(t *testing.T) {
		block := blockUntilGone(t)
		rc := newReceiver(t, []string{secretA}, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 0 {
				block(r)
				return
			}
			allow(n, w, r)
		})
		// The timeout must let the second, prompt, attempt through on a loaded CI machine.
		c, _ := newTestClient(t, Config{URL: rc.URL, Timeout: 300 * time.Millisecond, Deadline: 10 * time.Second})
		dec, err := c.Send(t.Context(), testEvent)
		if err != nil || !dec.Allowed {
			t.Fatalf("Send = %+v, %v; want allowed on the second attempt", dec, err)
		}
		if got := rc.deliveries(); len(got) != 2 || got[0].ID != got[1].ID {
			t.Errorf("deliveries = %d, want 2 with one webhook-id", len(got))
		}
	})
	t.Run("every attempt times out", func(t *testing.T) {
		block := blockUntilGone(t)
		rc := newReceiver(t, []string{secretA}, func(_ int, _ http.ResponseWriter, r *http.Request) { block(r) })
		c, _ := newTestClient(t, Config{URL: rc.URL, Timeout: 30 * time.Millisecond, Deadline: 10 * time.Second})
		start := time.Now()
		_, err := c.Send(t.Context(), testEvent)
		var he *Error
		if !errors.As(err, &he) || he.Reason != ReasonTimeout || he.Attempts != 3 || he.Status != 0 {
			t.Fatalf("err = %v, want timeout after 3 attempts", err)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err does not wrap context.DeadlineExceeded")
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("took %v, want about 3×30ms", el)
		}
	})
	t.Run("overall deadline", func(t *testing.T) {
		block := blockUntilGone(t)
		rc := newReceiver(t, []string{secretA}, func(_ int, _ http.ResponseWriter, r *http.Request) { block(r) })
		c, _ := newTestClient(t, Config{URL: rc.URL, Timeout: 10 * time.Second, Deadline: 80 * time.Millisecond})
		start := time.Now()
		_, err := c.Send(t.Context(), testEvent)
		var he *Error
		if !errors.As(err, &he) || he.Reason != ReasonDeadline || he.Attempts != 1 {
			t.Fatalf("err = %v, want deadline after 1 attempt", err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("took %v, want about 80ms", el)
		}
	})
	t.Run("caller's deadline is shorter", func(t *testing.T) {
		block := blockUntilGone(t)
		rc := newReceiver(t, []string{secretA}, func(_ int, _ http.ResponseWriter, r *http.Request) { block(r) })
		c, _ := newTestClient(t, Config{URL: rc.URL})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Send(ctx, testEvent)
		var he *Error
		if !errors.As(err, &he) || he.Reason != ReasonDeadline {
			t.Fatalf("err = %v, want deadline", err)
		}
	})
	t.Run("backoff beyond deadline gives up", func(t *testing.T) {
		rc := newReceiver(t, []string{secretA}, func(_ int, w http.ResponseWriter, _ *http.Request) { reply(w, 500, "") })
		c, s := newTestClient(t, Config{URL: rc.URL, Deadline: time.Second})
		c.backoff = func(int) time.Duration { return time.Minute }
		_, err := c.Send(t.Context(), testEvent)
		var he *Error
		if !errors.As(err, &he) || he.Reason != ReasonStatus || he.Status != 500 || he.Attempts != 1 || len(s.waits()) != 0 {
			t.Fatalf("err = %v, waits %v: want status 500 after 1 attempt, no wait", err, s.waits())
		}
	})
}

func TestSendCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	block := blockUntilGone(t)
	rc := newReceiver(t, []string{secretA}, func(_ int, _ http.ResponseWriter, r *http.Request) {
		cancel() // the person closed the tab while the hook thinks
		block(r)
	})
	c, _ := newTestClient(t, Config{URL: rc.URL})
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
		c, s := newTestClient(t, Config{URL: rc.URL})
		dec, err := c.Send(t.Context(), testEvent)
		if err != nil || !dec.Allowed {
			t.Fatalf("Send = %+v, %v; want allowed after a retry", dec, err)
		}
		if got := rc.deliveries(); len(got) != 2 || got[0].ID != got[1].ID || len(s.waits()) != 1 {
			t.Errorf("%d deliveries, waits %v: want 2 with one id, one wait", len(got), s.waits())
		}
	})
	t.Run("refused: no URL or secret in the error", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		c, s := newTestClient(t, Config{URL: "http://user:pw-hunter2@" + addr + "/hook?token=hunter2"})
		_, err = c.Send(t.Context(), testEvent)
		var he *Error
		if !errors.As(err, &he) || he.Reason != ReasonNetwork || he.Attempts != 3 || len(s.waits()) != 2 {
			t.Fatalf("err = %v, want network after 3 attempts", err)
		}
		if msg := err.Error(); strings.Contains(msg, "hunter2") || strings.Contains(msg, secretA[6:]) {
			t.Errorf("error text leaks a credential: %s", msg)
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
			c, _ := newTestClient(t, Config{URL: rc.URL})
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
			c, s := newTestClient(t, Config{URL: rc.URL})
			dec, err := c.Send(t.Context(), testEvent)
			if tc.reason != "" {
				var he *Error
				if !errors.As(err, &he) || he.Reason != tc.reason || he.Attempts != 1 || len(s.waits()) != 0 {
					t.Fatalf("err = %v, want %q after 1 attempt without retry", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
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
		{"too many retries", Config{URL: "https://h/", Secret: secretA, Retries: MaxRetries + 1}, false},
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
		{"capped", Config{Timeout: 4 * time.Second, Retries: 5}, 4 * time.Second, MaxDefaultDeadline, 5},
		{"long timeout", Config{Timeout: 20 * time.Second}, 20 * time.Second, 20 * time.Second, 2},
		{"no retries", Config{Retries: NoRetries}, 5 * time.Second, 5 * time.Second, 0},
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
	e := &Error{Reason: ReasonStatus, Status: 503, Attempts: 3, ID: "msg_x"}
	if got, want := e.Error(), "userhook: unavailable: status 503 after 3 attempt(s)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &Error{Reason: ReasonMalformed, Status: 200, Attempts: 1, Err: errors.New("user_id missing")}
	if got, want := e.Error(), "userhook: unavailable: malformed body 200 after 1 attempt(s): user_id missing"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
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
