// Command go is an edgeauth backend: a user webhook receiver using userhook.Verify, and an
// API whose routes require edgeauth's API access token (auth.go, on the apitoken package).
//
// edgeauth POSTs a signed event at every login (Standard Webhooks format); this server checks
// the signature and the timestamp window, finds or creates the user, and answers
// 200 {"user_id": ..., "claims": {...}} to let the person in or 403 {"message": ...} to refuse.
// The user_id becomes the API token's sub: GET /api/me, with the token, returns that user.
//
// Environment:
//
//	PORT                      port to listen on (default 8081; 0 picks a free one)
//	EDGEAUTH_USERHOOK_SECRET  whsec_... secret(s), space-separated while rotating
//	EDGEAUTH_TOKEN_ISSUER     the API tokens' issuer: edgeauth's own setting, else its PUBLIC_URL
//	                          (default http://localhost:8080, which `edgeauth dev` uses)
//	EDGEAUTH_TOKEN_AUDIENCE   the API tokens' audience (default: the issuer, as in edgeauth)
//	USERS_FILE                optional JSON file that keeps the users (an array), else memory only
//	DENY_DOMAINS              comma-separated email domains to refuse, e.g. "example.org,spam.test"
//	EVENTS_LOG                optional file; each verified event is appended as one JSON line
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/edgeauth/edgeauth/userhook"
)

const maxBodyBytes = 1 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run serves until ctx ends. It prints "listening on :<port>" once the port is open.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	logger := log.New(stderr, "", log.LstdFlags)
	h, err := newHandler(getenv, logger)
	if err != nil {
		return err
	}
	issuer := getenv("EDGEAUTH_TOKEN_ISSUER")
	if issuer == "" {
		issuer = "http://localhost:8080"
	}
	auth, err := NewAuth(issuer, getenv("EDGEAUTH_TOKEN_AUDIENCE"), "", logger)
	if err != nil {
		return err
	}
	port := getenv("PORT")
	if port == "" {
		port = "8081"
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on :%d\n", ln.Addr().(*net.TCPAddr).Port)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("POST /", h)
	mux.Handle("GET /api/me", auth.RequireAuth(http.HandlerFunc(h.me)))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// handler answers edgeauth's events and the API.
type handler struct {
	secret      string
	denyDomains map[string]bool
	eventsLog   string
	log         *log.Logger
	users       *userStore

	mu sync.Mutex // serialises appends to eventsLog
}

func newHandler(getenv func(string) string, logger *log.Logger) (*handler, error) {
	secret := getenv("EDGEAUTH_USERHOOK_SECRET")
	// Verify checks the secret on each call; checking it once here fails fast at start-up.
	if err := userhook.Verify(secret, http.Header{}, nil, 0); errors.Is(err, userhook.ErrInvalidSecret) {
		return nil, fmt.Errorf("EDGEAUTH_USERHOOK_SECRET: %w", err)
	}
	deny := map[string]bool{}
	for _, d := range strings.Split(getenv("DENY_DOMAINS"), ",") {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			deny[d] = true
		}
	}
	users, err := openUserStore(getenv("USERS_FILE"))
	if err != nil {
		return nil, err
	}
	return &handler{
		secret: secret, denyDomains: deny, eventsLog: getenv("EVENTS_LOG"), log: logger, users: users,
	}, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The signature covers the raw bytes: verify them before decoding anything.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"})
		return
	}
	if err := userhook.Verify(h.secret, r.Header, body, 5*time.Minute); err != nil {
		h.log.Printf("rejected: %v", err)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid signature"})
		return
	}
	var event userhook.Event
	if err := json.Unmarshal(body, &event); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is not an event"})
		return
	}
	if err := h.logEvent(body); err != nil {
		h.log.Printf("events log: %v", err)
	}

	id := r.Header.Get(userhook.HeaderID)
	email := event.Data.Email
	domain := strings.ToLower(email[strings.LastIndex(email, "@")+1:])
	if email != "" && h.denyDomains[domain] {
		h.log.Printf("%s %s -> 403", event.Type, id)
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "Sign-ups from " + domain + " are not allowed."})
		return
	}

	// Look up or create the user. edgeauth retries with the same webhook-id when an answer is
	// lost, so this must be idempotent: a second call finds the same user.
	user, err := h.users.findOrCreate(event.Data.Provider, event.Data.Subject, email, time.Now())
	if err != nil {
		// A 5xx makes edgeauth retry with the same webhook-id.
		h.log.Printf("%s %s -> 500: %v", event.Type, id, err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot store the user"})
		return
	}
	h.log.Printf("%s %s -> 200 %s", event.Type, id, user.ID)
	writeJSON(w, http.StatusOK, map[string]any{"user_id": user.ID, "claims": map[string]string{"role": "member"}})
}

// me is GET /api/me behind RequireAuth: the token's subject and email, and the user the
// webhook created for that subject (null when edgeauth runs without this webhook).
func (h *handler) me(w http.ResponseWriter, r *http.Request) {
	tok, ok := TokenFrom(r.Context())
	if !ok {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "route not behind RequireAuth"})
		return
	}
	email, _ := tok.Claims["email"].(string)
	var user *User
	if u, ok := h.users.byUserID(tok.Subject); ok {
		user = &u
	}
	writeJSON(w, http.StatusOK, map[string]any{"sub": tok.Subject, "email": email, "user": user})
}

// logEvent appends the verified event as one compact JSON line, for the CI check.
func (h *handler) logEvent(body []byte) error {
	if h.eventsLog == "" {
		return nil
	}
	var line bytes.Buffer
	if err := json.Compact(&line, body); err != nil {
		return err
	}
	line.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	f, err := os.OpenFile(h.eventsLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(line.Bytes()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
