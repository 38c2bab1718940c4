package userhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Fixed secrets so failures are reproducible.
var (
	secretA = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa1}, 32))
	secretB = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xb2}, 24))
)

var testEvent = Event{
	Type:      EventLogin,
	Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	Data: EventData{
		Provider: "google", Issuer: "https://accounts.google.com", Subject: "1234567890",
		Email: "ada@example.com", EmailVerified: true, Name: "Ada", Picture: "https://example.com/a.png",
		Claims: map[string]any{"sub": "1234567890", "hd": "example.com"},
	},
}

// delivery is one request as the receiver saw it.
type delivery struct {
	ID, Timestamp, Signature, UserAgent, ContentType string
	Body                                             []byte
}

// receiver is a real HTTP hook. Every request is checked with the Standard Webhooks
// reference library, once per secret, as an implementation independent of ours.
type receiver struct {
	*httptest.Server
	t       *testing.T
	secrets []string
	answer  func(n int, w http.ResponseWriter, r *http.Request) // n counts requests from 0

	mu  sync.Mutex
	got []delivery
}

func newReceiver(t *testing.T, secrets []string, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{t: t, secrets: secrets, answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		rc.t.Errorf("receiver: read body: %v", err)
		return
	}
	for _, s := range rc.secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			rc.t.Errorf("receiver: library rejects secret: %v", err)
			continue
		}
		if err := wh.Verify(body, r.Header); err != nil {
			rc.t.Errorf("receiver: reference library rejects the request under one secret: %v", err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
	}
	rc.mu.Lock()
	n := len(rc.got)
	rc.got = append(rc.got, delivery{
		ID: r.Header.Get(HeaderID), Timestamp: r.Header.Get(HeaderTimestamp),
		Signature: r.Header.Get(HeaderSignature), UserAgent: r.UserAgent(),
		ContentType: r.Header.Get("Content-Type"), Body: body,
	})
	rc.mu.Unlock()
	rc.answer(n, w, r)
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

// reply writes a JSON answer.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func allow(_ int, w http.ResponseWriter, _ *http.Request) {
	reply(w, http.StatusOK, `{"user_id":"user-1","claims":{"role":"member"}}`)
}

// sleeps records the waits Send asks for and returns at once, unless ctx has ended.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newTestClient builds a Client for url whose waits between attempts take no real time.
func newTestClient(t *testing.T, cfg Config) (*Client, *sleeps) {
	t.Helper()
	if cfg.Secret == "" {
		cfg.Secret = secretA
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s := &sleeps{}
	c.sleep = s.sleep
	return c, s
}

// blockUntilGone makes a handler hang until the client goes away or the test ends.
func blockUntilGone(t *testing.T) func(r *http.Request) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	return func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
}
