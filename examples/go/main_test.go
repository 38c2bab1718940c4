package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/userhook"
)

const (
	testSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	otherSecret = "whsec_c29tZS1vdGhlci1zZWNyZXQtMzItYnl0ZXMtbG9uZyE="
)

func login(provider, subject, email string) userhook.Event {
	return userhook.Event{Type: userhook.EventLogin, Data: userhook.EventData{
		Provider: provider, Subject: subject, Email: email, EmailVerified: true,
	}}
}

func TestHandler(t *testing.T) {
	eventsLog := filepath.Join(t.TempDir(), "events.jsonl")
	env := map[string]string{
		"EDGEAUTH_USERHOOK_SECRET": testSecret,
		"DENY_DOMAINS":             " Denied.test ,spam.test",
		"EVENTS_LOG":               eventsLog,
	}
	h, err := newHandler(func(k string) string { return env[k] }, log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	hook, err := userhook.New(userhook.Config{URL: srv.URL, Secret: otherSecret + " " + testSecret, Retries: new(0)})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		event userhook.Event
		want  userhook.Decision
	}{
		{"new user", login("google", "g1", "ada@example.com"), userhook.Decision{Allowed: true, UserID: "user-1", Claims: map[string]any{"role": "member"}}},
		{"same user again", login("google", "g1", "ada@example.com"), userhook.Decision{Allowed: true, UserID: "user-1", Claims: map[string]any{"role": "member"}}},
		{"same subject, other provider", login("github", "g1", "ada@example.com"), userhook.Decision{Allowed: true, UserID: "user-2", Claims: map[string]any{"role": "member"}}},
		{"denied domain", login("google", "g2", "eve@DENIED.test"), userhook.Decision{Message: "Sign-ups from denied.test are not allowed."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hook.Send(t.Context(), tc.event)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			tc.want.Attempts = 1 // Retries: new(0), one request
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("decision = %+v, want %+v", got, tc.want)
			}
		})
	}

	t.Run("wrong secret", func(t *testing.T) {
		other, _ := userhook.New(userhook.Config{URL: srv.URL, Secret: otherSecret, Retries: new(0)})
		_, err := other.Send(t.Context(), login("google", "g1", "ada@example.com"))
		if he, ok := errors.AsType[*userhook.Error](err); !ok || he.Status != http.StatusUnauthorized {
			t.Fatalf("err = %v, want status 401", err)
		}
	})
	t.Run("replayed as sent", func(t *testing.T) {
		// The control for the two cases below: an untouched copy is accepted.
		body, hdr := signed(t, login("google", "g1", "ada@example.com"), time.Now())
		if status := post(t, srv.URL, body, hdr); status != http.StatusOK {
			t.Errorf("status = %d, want 200", status)
		}
	})
	t.Run("tampered body", func(t *testing.T) {
		body, hdr := signed(t, login("google", "g1", "ada@example.com"), time.Now())
		body = bytes.Replace(body, []byte(`"g1"`), []byte(`"g9"`), 1)
		if status := post(t, srv.URL, body, hdr); status != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", status)
		}
	})
	t.Run("stale timestamp", func(t *testing.T) {
		body, hdr := signed(t, login("google", "g1", "ada@example.com"), time.Now().Add(-10*time.Minute))
		if status := post(t, srv.URL, body, hdr); status != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", status)
		}
	})

	data, err := os.ReadFile(eventsLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 5 {
		t.Fatalf("events log has %d lines, want the 5 verified events:\n%s", len(lines), data)
	}
	for _, l := range lines {
		var e userhook.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Type != userhook.EventLogin {
			t.Errorf("events log line %q: %v", l, err)
		}
	}
}

// signed returns the body and headers edgeauth's client sends for e at time ts, captured
// from a real request rather than re-implementing the signer.
func signed(t *testing.T, e userhook.Event, ts time.Time) ([]byte, http.Header) {
	t.Helper()
	type request struct {
		body []byte
		hdr  http.Header
	}
	got := make(chan request, 1)
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- request{body, r.Header.Clone()}
		w.WriteHeader(http.StatusTeapot)
	}))
	defer capture.Close()
	hook, err := userhook.New(userhook.Config{URL: capture.URL, Secret: testSecret, Retries: new(0),
		Now: func() time.Time { return ts }})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = hook.Send(t.Context(), e)
	select {
	case r := <-got:
		return r.body, r.hdr
	default:
		t.Fatal("no request captured")
		return nil, nil
	}
}

func post(t *testing.T, url string, body []byte, hdr http.Header) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{userhook.HeaderID, userhook.HeaderTimestamp, userhook.HeaderSignature} {
		req.Header.Set(k, hdr.Get(k))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRun(t *testing.T) {
	t.Run("bad secret", func(t *testing.T) {
		env := map[string]string{"EDGEAUTH_USERHOOK_SECRET": "whsec_nope!", "PORT": "0"}
		err := run(t.Context(), func(k string) string { return env[k] }, io.Discard, io.Discard)
		if !errors.Is(err, userhook.ErrInvalidSecret) || strings.Contains(err.Error(), "nope") {
			t.Fatalf("run = %v, want an invalid-secret error without the secret", err)
		}
	})
	t.Run("serves until canceled", func(t *testing.T) {
		env := map[string]string{"EDGEAUTH_USERHOOK_SECRET": testSecret, "PORT": "0"}
		ctx, cancel := context.WithCancel(t.Context())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() { done <- run(ctx, func(k string) string { return env[k] }, pw, io.Discard) }()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		go io.Copy(io.Discard, pr)
		port := strings.TrimPrefix(strings.TrimSpace(line), "listening on :")
		resp, err := http.Get("http://127.0.0.1:" + port + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("healthz = %d", resp.StatusCode)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run = %v", err)
		}
		pw.Close()
	})
}
