package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// The provider every test of this file and rotation_test.go logs in
// through: an in-process oidctest server, one client.
const (
	replicaProvider     = "op"
	replicaClientID     = "edgeauth-replicas"
	replicaClientSecret = "replicas-client-secret"
	replicaRedirectURI  = "https://app.example.test/callback" // never fetched: op.Login returns it
	// replicaIssuer is the one TOKEN_ISSUER of a deployment behind one
	// hostname: every replica mints the same iss and aud, whatever its own
	// PUBLIC_URL.
	replicaIssuer = "https://auth.example.test"
)

// TestReplicasShareNothingButKeys is the design's promise that any number
// of replicas sharing the keys serve any request: two `edgeauth serve`
// instances with the same STATE_KEYS and SIGNING_KEYS and no channel
// between them. The login starts on one and finishes on the other, and
// each accepts and refreshes what the other minted. A third instance with
// other keys refuses all of it, so the acceptance is the keys' doing.
func TestReplicasShareNothingButKeys(t *testing.T) {
	op := newReplicaOP(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	keys := freshKeys(t)
	one := startReplica(t, op, keys)
	two := startReplica(t, op, keys)
	if one == two {
		t.Fatalf("both replicas at %s", one)
	}

	// Both publish the same keys and the same issuer: a backend may fetch
	// either.
	var jwks1, jwks2 json.RawMessage
	getJSON(ctx, t, one+"/.well-known/jwks.json", &jwks1)
	getJSON(ctx, t, two+"/.well-known/jwks.json", &jwks2)
	if !bytes.Equal(jwks1, jwks2) {
		t.Errorf("the replicas publish different JWKS:\n%s\n%s", jwks1, jwks2)
	}
	var meta1, meta2 struct{ Issuer string }
	getJSON(ctx, t, one+"/.well-known/openid-configuration", &meta1)
	getJSON(ctx, t, two+"/.well-known/openid-configuration", &meta2)
	if meta1.Issuer != replicaIssuer || meta2.Issuer != replicaIssuer {
		t.Errorf("issuers %q and %q, want both %q", meta1.Issuer, meta2.Issuer, replicaIssuer)
	}

	// The authorization URL from replica one, the code redeemed at replica
	// two: the state carries everything (the binding parameter, not a
	// cookie, since cookies are per host).
	pending := startLogin(ctx, t, one, op, "ada@example.com")
	status, body := pending.finish(ctx, t, two)
	if status != http.StatusOK {
		t.Fatalf("login started at replica one, finished at two: %d %s", status, body)
	}
	fromTwo := parseAPITokens(t, body)
	sub := checkVerifies(ctx, t, one, fromTwo.Access)
	if sub != replicaProvider+"|"+oidctest.Subject("ada@example.com") {
		t.Errorf("sub %q", sub)
	}
	if got := checkVerifies(ctx, t, two, fromTwo.Access); got != sub {
		t.Errorf("replica two says sub %q, replica one %q", got, sub)
	}

	// Replica two's refresh token refreshes at replica one; what one mints
	// verifies at two; and one's rotated refresh token refreshes at two.
	fromOne := checkRefreshes(ctx, t, one, fromTwo.Refresh)
	if got := checkVerifies(ctx, t, two, fromOne.Access); got != sub {
		t.Errorf("refreshed at one, verified at two: sub %q, want %q", got, sub)
	}
	again := checkRefreshes(ctx, t, two, fromOne.Refresh)
	if got := checkVerifies(ctx, t, one, again.Access); got != sub {
		t.Errorf("refreshed at two, verified at one: sub %q, want %q", got, sub)
	}

	// The control: same provider and issuer, other keys. Nothing of the
	// pair's opens or verifies there.
	stranger := startReplica(t, op, freshKeys(t))
	status, body = startLogin(ctx, t, one, op, "ada@example.com").finish(ctx, t, stranger)
	checkProblem(t, status, body, http.StatusBadRequest, "invalid_state", "", "")
	checkRefused(ctx, t, stranger, fromTwo.Access)
	checkRefreshRefused(ctx, t, stranger, fromOne.Refresh)
}

// newReplicaOP starts the in-process provider the replicas log in through.
func newReplicaOP(t *testing.T) *oidctest.Server {
	t.Helper()
	op := oidctest.NewServer(oidctest.Options{Clients: []oidctest.Client{
		{ID: replicaClientID, Secret: replicaClientSecret, RedirectURIs: []string{replicaRedirectURI}},
	}})
	t.Cleanup(op.Close)
	return op
}

// startReplica starts `edgeauth serve` in production mode (the default)
// with keys (EDGEAUTH_STATE_KEYS, EDGEAUTH_SIGNING_KEYS), the provider op,
// the shared issuer, and a public URL of its own; it returns that URL. The
// replica stops when the test (or subtest) that started it ends. Its
// configuration is read while it starts, so replicas with different keys
// can run side by side.
func startReplica(t *testing.T, op *oidctest.Server, keys map[string]string) string {
	t.Helper()
	env := map[string]string{
		"EDGEAUTH_PROVIDERS":        replicaProvider,
		"EDGEAUTH_OP_ISSUER":        op.Issuer(),
		"EDGEAUTH_OP_CLIENT_ID":     replicaClientID,
		"EDGEAUTH_OP_CLIENT_SECRET": replicaClientSecret,
		"EDGEAUTH_OP_REDIRECT_URI":  replicaRedirectURI,
		"EDGEAUTH_TOKEN_ISSUER":     replicaIssuer,
		"EDGEAUTH_RATE_LIMIT":       "0",
	}
	maps.Copy(env, keys)
	return startEdgeauth(t, []string{"serve"}, env)
}

// pendingLogin is a login between /oauth2/url and /oauth2/token: the code
// the provider sent back, with the state and binding that go with it.
type pendingLogin struct {
	code, state, iss, binding string
}

// startLogin asks edgeauth at publicURL for an authorization URL (with a
// fresh binding) and signs email in at op, as a browser would.
func startLogin(ctx context.Context, t *testing.T, publicURL string, op *oidctest.Server, email string) pendingLogin {
	t.Helper()
	binding := randomBinding(t)
	var start struct {
		URL   string `json:"url"`
		State string `json:"state"`
	}
	getJSON(ctx, t, publicURL+"/oauth2/url?"+url.Values{"provider": {replicaProvider}, "binding": {binding}}.Encode(), &start)
	back, err := op.Login(start.URL, email)
	if err != nil {
		t.Fatalf("login of %s at the provider: %v", email, err)
	}
	q := back.Query()
	if q.Get("state") != start.State {
		t.Fatalf("the provider sent back state %q, want %q", q.Get("state"), start.State)
	}
	return pendingLogin{code: q.Get("code"), state: start.State, iss: q.Get("iss"), binding: binding}
}

// finish posts the login to /oauth2/token at publicURL.
func (p pendingLogin) finish(ctx context.Context, t *testing.T, publicURL string) (int, []byte) {
	t.Helper()
	return postToken(ctx, t, publicURL, map[string]string{
		"provider": replicaProvider, "code": p.code, "state": p.state, "iss": p.iss, "binding": p.binding,
	})
}

// apiTokens is the `api` member of a /oauth2/token or /oauth2/refresh answer.
type apiTokens struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

func parseAPITokens(t *testing.T, body []byte) apiTokens {
	t.Helper()
	var res struct {
		API apiTokens `json:"api"`
	}
	if err := json.Unmarshal(body, &res); err != nil || res.API.Access == "" || res.API.Refresh == "" {
		t.Fatalf("no API tokens in the answer (%v):\n%s", err, body)
	}
	return res.API
}

// verifyAt asks GET /oauth2/verify at publicURL about an access token.
func verifyAt(ctx context.Context, t *testing.T, publicURL, access string) (int, http.Header, []byte) {
	t.Helper()
	return callAPI(ctx, t, http.MethodGet, publicURL+"/oauth2/verify", nil, http.Header{"Authorization": {"Bearer " + access}})
}

// checkVerifies checks that /oauth2/verify at publicURL accepts access and
// returns the user it names.
func checkVerifies(ctx context.Context, t *testing.T, publicURL, access string) string {
	t.Helper()
	status, h, body := verifyAt(ctx, t, publicURL, access)
	if status != http.StatusOK {
		t.Errorf("verify at %s: %d %s", publicURL, status, body)
		return ""
	}
	return h.Get("X-Auth-Request-User")
}

// checkRefused checks that /oauth2/verify at publicURL refuses access as
// invalid_token, the answer to a signature by a key it does not publish.
func checkRefused(ctx context.Context, t *testing.T, publicURL, access string) {
	t.Helper()
	status, h, body := verifyAt(ctx, t, publicURL, access)
	checkProblem(t, status, body, http.StatusUnauthorized, "invalid_token", "", "")
	if got := h.Get("WWW-Authenticate"); got != `Bearer realm="edgeauth", error="invalid_token"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
}

// refreshAt posts a refresh token to /oauth2/refresh at publicURL.
func refreshAt(ctx context.Context, t *testing.T, publicURL, refresh string) (int, []byte) {
	t.Helper()
	status, _, body := callAPI(ctx, t, http.MethodPost, publicURL+"/oauth2/refresh", map[string]string{"refresh": refresh}, nil)
	return status, body
}

// checkRefreshes checks that refresh refreshes at publicURL and returns
// the new tokens.
func checkRefreshes(ctx context.Context, t *testing.T, publicURL, refresh string) apiTokens {
	t.Helper()
	status, body := refreshAt(ctx, t, publicURL, refresh)
	if status != http.StatusOK {
		t.Fatalf("refresh at %s: %d %s", publicURL, status, body)
	}
	return parseAPITokens(t, body)
}

// checkRefreshRefused checks that /oauth2/refresh at publicURL refuses
// refresh as invalid_token, the answer to a seal by a key it lacks.
func checkRefreshRefused(ctx context.Context, t *testing.T, publicURL, refresh string) {
	t.Helper()
	status, body := refreshAt(ctx, t, publicURL, refresh)
	checkProblem(t, status, body, http.StatusUnauthorized, "invalid_token", "", "")
}
