package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/edgeauth/edgeauth/apitoken"
)

// Timings of the key source. edgeauth publishes a new key before it signs
// with it, so a kid we do not know means our copy of the JWKS is old: fetch
// it again, but at most once a minute (a token with a made-up kid must not
// make us hammer edgeauth), and every hour anyway, so that a key edgeauth
// withdrew stops verifying.
const (
	jwksTimeout     = 5 * time.Second
	refetchInterval = time.Minute
	retryNoKeys     = 5 * time.Second // until the first fetch succeeds
	jwksMaxAge      = time.Hour
	maxJWKSBytes    = 1 << 20
)

// Auth verifies edgeauth API access tokens (RFC 9068) for net/http
// handlers, with keys from edgeauth's JWKS. It is safe for concurrent use.
//
//	auth, err := NewAuth("https://auth.example.com", "https://api.example.com", "", nil)
//	mux.Handle("GET /api/me", auth.RequireAuth(http.HandlerFunc(me)))
//	// in me: tok, _ := TokenFrom(r.Context()); tok.Subject is the user id
type Auth struct {
	issuer, audience string
	fetch            func(context.Context) (jwk.Set, error)
	log              *log.Logger

	keys atomic.Pointer[keySet] // nil until the first fetch succeeds

	fetchMu     sync.Mutex // one fetch at a time; guards lastAttempt
	lastAttempt time.Time
}

// keySet is one fetched JWKS and the verifier made of it.
type keySet struct {
	set      jwk.Set
	verifier *apitoken.Verifier
	fetched  time.Time
}

// NewAuth returns an Auth for tokens of issuer (edgeauth's
// EDGEAUTH_TOKEN_ISSUER, else its PUBLIC_URL) for audience (its
// EDGEAUTH_TOKEN_AUDIENCE, else the issuer). jwksURL empty means
// issuer + "/.well-known/jwks.json". Keys are fetched at the first request.
func NewAuth(issuer, audience, jwksURL string, logger *log.Logger) (*Auth, error) {
	if issuer == "" {
		return nil, errors.New("auth: the issuer is required")
	}
	if audience == "" {
		audience = issuer
	}
	if jwksURL == "" {
		jwksURL = strings.TrimSuffix(issuer, "/") + "/.well-known/jwks.json"
	}
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	client := &http.Client{
		Timeout: jwksTimeout,
		// The JWKS URL is configuration: never let an answer point elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Auth{issuer: issuer, audience: audience, fetch: jwksFetcher(client, jwksURL), log: logger}, nil
}

// RequireAuth lets a request through to next only with a valid API access
// token in "Authorization: Bearer <token>" (RFC 6750 §2.1), and puts the
// verified token in its context (see [TokenFrom]). Otherwise it answers 401
// with a WWW-Authenticate challenge (RFC 6750 §3) and a problem+json body,
// or 503 when edgeauth's keys could not be fetched yet.
func (a *Auth) RequireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			// No error code when the request had no credentials (RFC 6750 §3.1).
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			writeProblem(w, http.StatusUnauthorized, "invalid_token", "send the API access token as Authorization: Bearer <token>")
			return
		}
		v, err := a.Verify(r.Context(), token)
		switch {
		case errors.Is(err, errNoKeys):
			writeProblem(w, http.StatusServiceUnavailable, "keys_unavailable", "the keys of the token issuer could not be fetched; try again shortly")
			return
		case errors.Is(err, apitoken.ErrExpired):
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token", error_description="the access token expired"`)
			writeProblem(w, http.StatusUnauthorized, "expired_token", "the access token has expired: refresh it")
			return
		case err != nil:
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
			writeProblem(w, http.StatusUnauthorized, "invalid_token", "the access token is not valid here")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, v)))
	})
}

type tokenKey struct{}

// TokenFrom returns the token [Auth.RequireAuth] verified for this request.
func TokenFrom(ctx context.Context) (*apitoken.Verified, bool) {
	v, ok := ctx.Value(tokenKey{}).(*apitoken.Verified)
	return v, ok
}

var errNoKeys = errors.New("auth: no keys of the token issuer yet")

// Verify checks an API access token as a bearer token; the error wraps
// apitoken.ErrExpired, apitoken.ErrInvalid or errNoKeys.
func (a *Auth) Verify(ctx context.Context, token string) (*apitoken.Verified, error) {
	ks := a.keys.Load()
	kid := headerKid(token)
	if ks == nil || time.Since(ks.fetched) > jwksMaxAge || (kid != "" && !hasKid(ks.set, kid)) {
		ks = a.refresh(ctx, ks)
	}
	if ks == nil {
		return nil, errNoKeys
	}
	v, err := ks.verifier.Verify(token)
	if err != nil {
		return nil, err
	}
	if v.Confirmation != "" {
		// A DPoP-bound token is worthless without its proof (RFC 9449 §7.1).
		return nil, fmt.Errorf("%w: the token is DPoP-bound, not a bearer token", apitoken.ErrInvalid)
	}
	return v, nil
}

// refresh fetches the JWKS again unless another request did since seen was
// loaded, or the last attempt was too recent; it returns the newest keys.
// Requests whose kid is known never wait for it.
func (a *Auth) refresh(ctx context.Context, seen *keySet) *keySet {
	a.fetchMu.Lock()
	defer a.fetchMu.Unlock()
	cur := a.keys.Load()
	if cur != seen {
		return cur
	}
	gap := refetchInterval
	if cur == nil {
		gap = retryNoKeys
	}
	if !a.lastAttempt.IsZero() && time.Since(a.lastAttempt) < gap {
		return cur
	}
	a.lastAttempt = time.Now()
	ctx, cancel := context.WithTimeout(ctx, jwksTimeout)
	defer cancel()
	set, err := a.fetch(ctx)
	if err == nil {
		var v *apitoken.Verifier
		if v, err = apitoken.NewVerifier(set, a.issuer, a.audience, nil); err == nil {
			next := &keySet{set: set, verifier: v, fetched: time.Now()}
			a.keys.Store(next)
			return next
		}
	}
	a.log.Printf("auth: keeping the keys we have: %v", err)
	return cur
}

// jwksFetcher returns a fetch of the JWK Set at url.
func jwksFetcher(client *http.Client, url string) func(context.Context) (jwk.Set, error) {
	return func(ctx context.Context) (jwk.Set, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, fmt.Errorf("jwks: %w", err)
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("jwks: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("jwks: GET %s: status %d", url, resp.StatusCode)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
		if err != nil {
			return nil, fmt.Errorf("jwks: GET %s: %w", url, err)
		}
		if len(body) > maxJWKSBytes {
			return nil, fmt.Errorf("jwks: GET %s: larger than %d bytes", url, maxJWKSBytes)
		}
		set, err := jwk.Parse(body)
		if err != nil {
			return nil, fmt.Errorf("jwks: GET %s: %w", url, err)
		}
		return set, nil
	}
}

func hasKid(set jwk.Set, kid string) bool {
	_, ok := set.LookupKeyID(kid)
	return ok
}

// headerKid is the kid of a compact JWS's protected header, or "" when
// there is none to read; the verifier judges the token, this only decides
// whether to look for new keys.
func headerKid(token string) string {
	seg, _, ok := strings.Cut(token, ".")
	if !ok || len(seg) > 1024 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.Kid
}

// bearerToken reads "Bearer <token>"; the scheme is case-insensitive (RFC
// 9110 §11.1).
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != "" && len(token) <= apitoken.MaxTokenLen
}

// writeProblem answers an RFC 9457 problem with edgeauth's code member.
func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"status": status, "code": code, "title": http.StatusText(status), "detail": detail,
	})
}
