package userhook

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// newTestClient builds a Client with secretA unless cfg names a secret.
func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.Secret == "" {
		cfg.Secret = secretA
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// canned is one answer of a fakeTransport: a transport error, a request that hangs until
// its context ends, or a response.
type canned struct {
	status     int
	retryAfter string // Retry-After header, when set
	body       string
	err        error
	hang       bool
}

// sent is one request as the fakeTransport saw it, stamped with the clock it ran under
// (the fake one inside a synctest bubble).
type sent struct {
	at     time.Time
	header http.Header
}

// fakeTransport is an in-memory hook for tests that run inside a synctest bubble, where
// sockets are not durably blocking and httptest cannot be used. It answers attempt n with
// answers[n] (the last one repeats) and checks every request with the reference library.
type fakeTransport struct {
	t       *testing.T
	answers []canned

	mu   sync.Mutex
	sent []sent
}

func (f *fakeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		f.t.Errorf("fake transport: read body: %v", err)
	}
	wh, _ := standardwebhooks.NewWebhook(secretA)
	if err := wh.Verify(body, r.Header); err != nil {
		f.t.Errorf("fake transport: reference library rejects the request: %v", err)
	}
	f.mu.Lock()
	n := len(f.sent)
	f.sent = append(f.sent, sent{at: time.Now(), header: r.Header.Clone()})
	a := f.answers[min(n, len(f.answers)-1)]
	f.mu.Unlock()
	switch {
	case a.hang:
		<-r.Context().Done()
		return nil, r.Context().Err()
	case a.err != nil:
		return nil, a.err
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if a.retryAfter != "" {
		h.Set("Retry-After", a.retryAfter)
	}
	return &http.Response{
		StatusCode: a.status, Header: h, Request: r,
		Body: io.NopCloser(strings.NewReader(a.body)), ContentLength: int64(len(a.body)),
	}, nil
}

func (f *fakeTransport) requests() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.sent...)
}

// fakeHookURL carries credentials so tests can check that no error repeats them.
const fakeHookURL = "https://user:pw-hunter2@hook.example.test/h?token=hunter2"

// newFakeClient builds a Client that talks to a fakeTransport answering answers.
func newFakeClient(t *testing.T, cfg Config, answers ...canned) (*Client, *fakeTransport) {
	t.Helper()
	ft := &fakeTransport{t: t, answers: answers}
	cfg.URL, cfg.HTTPClient = fakeHookURL, &http.Client{Transport: ft}
	return newTestClient(t, cfg), ft
}

// Canned answers.
var (
	ok200 = canned{status: 200, body: `{"user_id":"user-1"}`}
	deny  = canned{status: 403, body: `{"message":"no"}`}
	hang  = canned{hang: true}
)

func status(code int) canned {
	return canned{status: code, body: `{"message":"body-text-not-for-errors"}`}
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
