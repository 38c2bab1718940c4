package main

// End-to-end tests against a real OpenID Provider: the npm package
// oidc-provider, started from .ci/e2e/op (see its README), a real headless
// Chromium for its login pages, and a tiny app that plays a cross-site SPA
// (the `binding` parameter mode).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// opDir is the provider's npm project.
const opDir = ".ci/e2e/op"

const (
	e2eProvider     = "node" // edgeauth's name for the oidc-provider
	e2eClientID     = "edgeauth-e2e"
	e2eClientSecret = "e2e-client-secret-not-so-secret"
	e2eLogin        = "ada.lovelace"
	e2eAppState     = "x"
)

// TestLoginAgainstOidcProvider runs the whole login against oidc-provider:
// edgeauth's authorization URL, the provider's real login and consent
// pages in Chromium, the app's callback posting code, state, iss and binding
// to /oauth2/token, and API tokens that verify against edgeauth's JWKS. Then
// it checks what a real provider refuses or accepts: refusals that must
// happen before the code is spent, a replayed code, a code redeemed with
// another flow's PKCE verifier, and the RP-initiated logout URL.
func TestLoginAgainstOidcProvider(t *testing.T) {
	browser := newBrowser(t)
	node := nodeProject(t, opDir, "oidc-provider", "the e2e OpenID Provider needs Node.js >= 20.18 with npm")

	// One deadline for the whole test, browser steps included (ctx carries
	// the browser).
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()

	app := newE2EApp(t)
	op := startOIDCProvider(ctx, t, node, app.URL()+"/callback", app.URL()+"/logged-out")
	env := map[string]string{
		"EDGEAUTH_PROVIDERS":                     e2eProvider,
		"EDGEAUTH_NODE_ISSUER":                   op.Issuer,
		"EDGEAUTH_NODE_CLIENT_ID":                e2eClientID,
		"EDGEAUTH_NODE_CLIENT_SECRET":            e2eClientSecret,
		"EDGEAUTH_NODE_REDIRECT_URI":             app.URL() + "/callback",
		"EDGEAUTH_NODE_POST_LOGOUT_REDIRECT_URI": app.URL() + "/logged-out",
	}
	maps.Copy(env, freshKeys(t))
	publicURL := startEdgeauth(t, []string{"serve"}, env)
	app.setEdge(publicURL)

	// --- A fresh browser: login page, consent page, back to the app, which
	// redeems the code.
	first := app.start(ctx, t, e2eAppState, true)
	checkAuthorizationURL(t, first, op, app)
	if prompts := browserLogin(ctx, t, first.URL); !slices.Equal(prompts, []string{"login", "consent"}) {
		t.Errorf("pages seen at the provider: %v, want [login consent] in a fresh browser", prompts)
	}
	firstCB := app.callback(ctx, t)
	if firstCB.Err != nil {
		t.Fatalf("app callback: %v", firstCB.Err)
	}
	if got := firstCB.Query.Get("iss"); got != op.Issuer {
		t.Errorf("callback iss = %q, want %q (oidc-provider always sends RFC 9207 iss)", got, op.Issuer)
	}
	if firstCB.Status != http.StatusOK {
		t.Fatalf("POST /oauth2/token from the app callback: %d %s", firstCB.Status, firstCB.Body)
	}
	var res e2eTokenResponse
	if err := json.Unmarshal(firstCB.Body, &res); err != nil {
		t.Fatalf("token response: %v\n%s", err, firstCB.Body)
	}
	checkTokenResponse(ctx, t, res, publicURL, op, first, app.URL()+"/logged-out")

	// --- Two more codes from the same browser: the provider's session and
	// grant cover the scopes, so normally no page is shown. The app only
	// records them; the refusals below redeem them by hand.
	second := app.start(ctx, t, "", false)
	t.Logf("provider pages for a second login in the same browser: %v", browserLogin(ctx, t, second.URL))
	secondCB := app.callback(ctx, t)
	third := app.start(ctx, t, "", false)
	browserLogin(ctx, t, third.URL)
	thirdCB := app.callback(ctx, t)
	for _, cb := range []e2eCallback{secondCB, thirdCB} {
		if cb.Err != nil || cb.Query.Get("code") == "" {
			t.Fatalf("callback without a code: %v %v", cb.Query, cb.Err)
		}
	}

	token := func(t *testing.T, code, state, iss, binding string) (int, []byte) {
		t.Helper()
		return postToken(ctx, t, publicURL, map[string]string{
			"provider": e2eProvider, "code": code, "state": state, "iss": iss, "binding": binding,
		})
	}
	code2, iss2 := secondCB.Query.Get("code"), secondCB.Query.Get("iss")

	t.Run("refused before the code is spent", func(t *testing.T) {
		for _, tc := range []struct {
			name                        string
			code, state, iss, binding   string
			wantCode, wantCheck, inText string
		}{
			{name: "no binding", code: code2, state: second.State, iss: iss2,
				wantCode: "binding_mismatch", inText: "binding"},
			{name: "another binding", code: code2, state: second.State, iss: iss2, binding: randomBinding(t),
				wantCode: "binding_mismatch", inText: "binding"},
			{name: "state of another login", code: code2, state: first.State, iss: iss2, binding: second.Binding,
				wantCode: "binding_mismatch"},
			{name: "no iss", code: code2, state: second.State, binding: second.Binding,
				wantCode: "issuer_mismatch", wantCheck: "iss_param"},
			{name: "another iss", code: code2, state: second.State, iss: "https://op.attacker.test", binding: second.Binding,
				wantCode: "issuer_mismatch", wantCheck: "iss_param"},
			{name: "iss with a trailing slash", code: code2, state: second.State, iss: iss2 + "/", binding: second.Binding,
				wantCode: "issuer_mismatch", wantCheck: "iss_param"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := token(t, tc.code, tc.state, tc.iss, tc.binding)
				checkProblem(t, status, body, http.StatusBadRequest, tc.wantCode, tc.wantCheck, tc.inText)
			})
		}
	})

	// What the provider logs about a refused exchange tells why it refused
	// (its README: one stderr line per rejected request).
	refusedBecause := func(t *testing.T, from int, why string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if !op.stderr.waitFor(wctx, from, why) {
			t.Errorf("oidc-provider did not log %q; its stderr since the request:\n%s", why, op.stderr.since(from))
		}
	}

	t.Run("code redeemed with another login's state (PKCE)", func(t *testing.T) {
		// The third code was issued for the third login's code_challenge;
		// the second login's state derives another verifier. oidc-provider
		// checks PKCE before it consumes the code.
		from := op.stderr.Len()
		status, body := token(t, thirdCB.Query.Get("code"), second.State, thirdCB.Query.Get("iss"), second.Binding)
		checkProblem(t, status, body, http.StatusBadRequest, "exchange_failed", "", "")
		refusedBecause(t, from, "code_verifier does not match code_challenge")
	})

	t.Run("the code still works after the refusals, once", func(t *testing.T) {
		status, body := token(t, code2, second.State, iss2, second.Binding)
		if status != http.StatusOK {
			t.Fatalf("redeem after the refusals: %d %s", status, body)
		}
		var res e2eTokenResponse
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		if res.User["id"] != e2eProvider+"|"+e2eLogin || res.AppState != "" {
			t.Errorf("user %v, app_state %q", res.User, res.AppState)
		}
		// A replay: oidc-provider refuses the used code (invalid_grant)
		// and revokes the grant, so this runs after the cases above.
		from := op.stderr.Len()
		status, body = token(t, code2, second.State, iss2, second.Binding)
		checkProblem(t, status, body, http.StatusBadRequest, "exchange_failed", "", "")
		refusedBecause(t, from, "authorization code already consumed")
	})

	t.Run("replay of the browser login's code", func(t *testing.T) {
		// Same code, state, iss and binding as the app sent. The grant is
		// revoked by now, so the provider no longer finds the code.
		status, body := token(t, firstCB.Query.Get("code"), first.State, firstCB.Query.Get("iss"), first.Binding)
		checkProblem(t, status, body, http.StatusBadRequest, "exchange_failed", "", "")
	})

	t.Run("logout url", func(t *testing.T) {
		if res.Provider.LogoutURL == "" {
			t.Skip("no logout_url in the token response")
		}
		browserLogout(ctx, t, res.Provider.LogoutURL, app.URL()+"/logged-out")
		// The provider's session is gone: the next login asks again.
		again := app.start(ctx, t, "", false)
		if prompts := browserLogin(ctx, t, again.URL); !slices.Contains(prompts, "login") {
			t.Errorf("after logout the provider showed %v, want its login page", prompts)
		}
		if cb := app.callback(ctx, t); cb.Err != nil || cb.Query.Get("code") == "" {
			t.Errorf("login after logout: %v %v", cb.Query, cb.Err)
		}
	})
}

// --- node and the provider --------------------------------------------------

// e2eOP is a running oidc-provider and its discovery document.
type e2eOP struct {
	Issuer string
	Meta   struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
		JwksURI               string `json:"jwks_uri"`
		EndSessionEndpoint    string `json:"end_session_endpoint"`
		IssParameterSupported bool   `json:"authorization_response_iss_parameter_supported"`
	}
	stderr *syncBuffer
}

// startOIDCProvider starts .ci/e2e/op/server.mjs on a free port and returns
// once it prints its ready line; ctx bounds the wait. extraEnv ("NAME=value",
// see its README) is added last and so wins. It stops when the test ends
// (SIGTERM, which it handles).
func startOIDCProvider(ctx context.Context, t *testing.T, node, redirectURI, postLogoutURI string, extraEnv ...string) *e2eOP {
	t.Helper()
	op := &e2eOP{}
	op.Issuer, op.stderr = process{
		name: "oidc-provider",
		argv: []string{node, "server.mjs"},
		dir:  opDir,
		env: append([]string{
			"PORT=0",
			"HOST=127.0.0.1",
			"ISSUER=",
			"CLIENT_ID=" + e2eClientID,
			"CLIENT_SECRET=" + e2eClientSecret,
			"REDIRECT_URIS=" + redirectURI,
			"POST_LOGOUT_REDIRECT_URIS=" + postLogoutURI,
			"ACCESS_TOKEN_TTL=",
			"ALWAYS_ISSUE_REFRESH_TOKEN=",
			"CONFORM_ID_TOKEN_CLAIMS=",
		}, extraEnv...),
		stop:  syscall.SIGTERM,
		ready: "oidc-provider ready ", // its README: stdout carries only this line
	}.start(ctx, t)

	getJSON(ctx, t, op.Issuer+"/.well-known/openid-configuration", &op.Meta)
	if op.Meta.Issuer != op.Issuer || !op.Meta.IssParameterSupported || op.Meta.EndSessionEndpoint == "" {
		t.Fatalf("unexpected discovery document for %s: %+v", op.Issuer, op.Meta)
	}
	return op
}

// --- the app -------------------------------------------------------------------

// e2eApp plays a cross-site SPA and its backend: it asks edgeauth for an
// authorization URL with a random `binding` (kept, like sessionStorage
// would), and its /callback sends code, state, iss and that binding to
// /oauth2/token.
type e2eApp struct {
	t         *testing.T
	srv       *httptest.Server
	client    *http.Client
	callbacks chan e2eCallback

	mu    sync.Mutex
	edge  string
	flows map[string]e2eFlow // by state
}

// e2eFlow is one login the app started.
type e2eFlow struct {
	URL, State, Binding string
	redeem              bool // the callback posts to /oauth2/token itself
}

// e2eCallback is what the app's /callback saw and, when it redeemed the
// code, edgeauth's answer.
type e2eCallback struct {
	Query  url.Values
	Status int
	Body   []byte
	Err    error
}

func newE2EApp(t *testing.T) *e2eApp {
	a := &e2eApp{
		client:    &http.Client{Timeout: 20 * time.Second},
		callbacks: make(chan e2eCallback, 8),
		flows:     map[string]e2eFlow{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", a.handleCallback)
	mux.HandleFunc("GET /logged-out", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<!DOCTYPE html><title>app</title><p id=\"logged-out\">logged out %s</p>", html.EscapeString(r.URL.RawQuery))
	})
	a.srv = httptest.NewServer(mux)
	a.t = t
	t.Cleanup(a.srv.Close) // waits for handlers, so none calls t after the test
	return a
}

func (a *e2eApp) URL() string { return a.srv.URL }

func (a *e2eApp) setEdge(u string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.edge = u
}

// start asks edgeauth for an authorization URL, as the SPA would.
func (a *e2eApp) start(ctx context.Context, t *testing.T, appState string, redeem bool) e2eFlow {
	t.Helper()
	a.mu.Lock()
	edge := a.edge
	a.mu.Unlock()
	f := e2eFlow{Binding: randomBinding(t), redeem: redeem}
	q := url.Values{"provider": {e2eProvider}, "binding": {f.Binding}}
	if appState != "" {
		q.Set("app_state", appState)
	}
	var out struct {
		URL       string `json:"url"`
		State     string `json:"state"`
		ExpiresIn int64  `json:"expires_in"`
	}
	getJSON(ctx, t, edge+"/oauth2/url?"+q.Encode(), &out)
	if out.URL == "" || out.State == "" || out.ExpiresIn <= 0 {
		t.Fatalf("GET /oauth2/url: %+v", out)
	}
	f.URL, f.State = out.URL, out.State
	a.mu.Lock()
	a.flows[f.State] = f
	a.mu.Unlock()
	return f
}

func (a *e2eApp) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cb := e2eCallback{Query: q}
	a.mu.Lock()
	f, known := a.flows[q.Get("state")]
	edge := a.edge
	a.mu.Unlock()
	switch {
	case q.Get("error") != "":
		cb.Err = fmt.Errorf("provider error %s: %s", q.Get("error"), q.Get("error_description"))
	case !known:
		cb.Err = fmt.Errorf("callback with a state the app did not start: %q", q.Get("state"))
	case f.redeem:
		body, _ := json.Marshal(map[string]string{
			"provider": e2eProvider, "code": q.Get("code"), "state": q.Get("state"),
			"iss": q.Get("iss"), "binding": f.Binding,
		})
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, edge+"/oauth2/token", bytes.NewReader(body))
		if err != nil {
			cb.Err = err
			break
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := a.client.Do(req)
		if err != nil {
			cb.Err = err
			break
		}
		cb.Status = resp.StatusCode
		cb.Body, cb.Err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}
	select {
	case a.callbacks <- cb:
	default:
		a.t.Errorf("stray callback (the test reads every one it causes): %v", q)
	}
	result := "ok"
	if cb.Err != nil {
		result = "error: " + cb.Err.Error()
	} else if cb.Status != 0 && cb.Status != http.StatusOK {
		result = fmt.Sprintf("token status %d: %s", cb.Status, cb.Body)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!DOCTYPE html><title>app</title><p id=\"done\">%s</p>", html.EscapeString(result))
}

// callback returns the next callback the app received.
func (a *e2eApp) callback(ctx context.Context, t *testing.T) e2eCallback {
	t.Helper()
	select {
	case cb := <-a.callbacks:
		return cb
	case <-ctx.Done():
		t.Fatalf("no callback reached the app: %v", ctx.Err())
		return e2eCallback{}
	}
}

// --- the browser ---------------------------------------------------------------

// pageKind tells the provider's pages and the app's callback page apart:
// "done" (the app's page), or the provider form's prompt ("login",
// "consent"), or "".
const pageKind = `document.querySelector('#done') ? 'done' :
	(document.querySelector('input[name=prompt]') || {value: ''}).value`

// browserLogin drives the provider's pages from authURL, by what each page
// asks (the README: login form, consent form, or none), until the app's
// callback page. It returns the prompts it answered.
func browserLogin(ctx context.Context, t *testing.T, authURL string) []string {
	t.Helper()
	fail := func(what string, err error) {
		t.Helper()
		t.Fatalf("browser login: %s: %v\npage %s", what, err, pageText(ctx))
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(authURL)); err != nil {
		fail("navigate to the authorization URL", err)
	}
	var seen []string
	for range 6 {
		kind, err := chromedp.Run(ctx, chromedp.Evaluate[string](pageKind))
		if err != nil {
			fail("read the page", err)
		}
		switch kind {
		case "done":
			return seen
		case "login":
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.CSS(`input[name=login]`), e2eLogin),
				chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "any password"),
			); err != nil {
				fail("fill the login form", err)
			}
		case "consent":
		default:
			fail("unexpected page", errors.New("neither the app's callback page nor a login or consent form"))
		}
		seen = append(seen, kind)
		// Submit and wait for the redirects to end on the next page.
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[type=submit]`))); err != nil {
			fail("submit the "+kind+" form", err)
		}
	}
	fail("no callback", fmt.Errorf("still at the provider after %v", seen))
	return nil
}

// browserLogout follows an RP-initiated logout URL, confirms at the
// provider, and expects to land on the registered post-logout URI.
func browserLogout(ctx context.Context, t *testing.T, logoutURL, want string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(logoutURL)); err != nil {
		t.Fatalf("navigate to logout_url: %v\npage %s", err, pageText(ctx))
	}
	// With a provider session: a confirmation page. Without one: an
	// auto-submitting form that needs no click.
	confirm, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('button[name=logout][value=yes]')`))
	if err != nil {
		t.Fatalf("read the logout page: %v\npage %s", err, pageText(ctx))
	}
	if confirm {
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[name=logout][value=yes]`))); err != nil {
			t.Fatalf("confirm logout: %v\npage %s", err, pageText(ctx))
		}
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#logged-out`))); err != nil {
		t.Fatalf("not back at the app after logout: %v\npage %s", err, pageText(ctx))
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, want) {
		t.Errorf("after logout at %s, want %s", loc, want)
	}
}

// --- checks ------------------------------------------------------------------

type e2eTokenResponse struct {
	API struct {
		Access    string `json:"access"`
		Refresh   string `json:"refresh"`
		TokenType string `json:"token_type"`
		ExpiresIn int64  `json:"expires_in"`
	} `json:"api"`
	Provider struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
		LogoutURL   string `json:"logout_url"`
		Scope       string `json:"scope"`
	} `json:"provider"`
	User     map[string]any `json:"user"`
	AppState string         `json:"app_state"`
}

// checkAuthorizationURL checks what edgeauth asks the provider for: the
// code flow at the discovered endpoint, with PKCE S256, a nonce and the
// sealed state.
func checkAuthorizationURL(t *testing.T, f e2eFlow, op *e2eOP, app *e2eApp) {
	t.Helper()
	u, err := url.Parse(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	if base := u.Scheme + "://" + u.Host + u.Path; base != op.Meta.AuthorizationEndpoint {
		t.Errorf("authorization URL at %s, want the discovered %s", base, op.Meta.AuthorizationEndpoint)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"response_type":         "code",
		"client_id":             e2eClientID,
		"redirect_uri":          app.URL() + "/callback",
		"state":                 f.State,
		"code_challenge_method": "S256",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("authorization URL %s = %q, want %q", k, got, want)
		}
	}
	if len(q.Get("code_challenge")) != 43 {
		t.Errorf("code_challenge %q: want 43 base64url characters (SHA-256)", q.Get("code_challenge"))
	}
	if q.Get("nonce") == "" {
		t.Error("authorization URL has no nonce")
	}
	if !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		t.Errorf("scope %q lacks openid", q.Get("scope"))
	}
	t.Logf("state is %d characters (with binding and app_state)", len(f.State))
}

// checkTokenResponse checks the answer to the browser login.
func checkTokenResponse(ctx context.Context, t *testing.T, res e2eTokenResponse, publicURL string, op *e2eOP, f e2eFlow, postLogoutURI string) {
	t.Helper()
	wantSub := e2eProvider + "|" + e2eLogin

	// API access token: edgeauth's JWKS, issuer and default audience.
	at := verifyAccessToken(ctx, t, publicURL, res.API.Access)
	if at.Subject() != wantSub {
		t.Errorf("api.access sub = %q, want %q", at.Subject(), wantSub)
	}
	if p, _ := at.Get("provider"); p != e2eProvider {
		t.Errorf("api.access provider = %v, want %q", p, e2eProvider)
	}
	if msg, err := jws.Parse([]byte(res.API.Access)); err != nil || msg.Signatures()[0].ProtectedHeaders().Type() != "at+jwt" {
		t.Errorf("api.access is not typ at+jwt (%v)", err)
	}
	if res.API.Refresh == "" || res.API.TokenType != "Bearer" || res.API.ExpiresIn <= 0 {
		t.Errorf("api: refresh %t, token_type %q, expires_in %d", res.API.Refresh != "", res.API.TokenType, res.API.ExpiresIn)
	}

	// The user, from the provider's ID token and userinfo.
	for k, want := range map[string]any{
		"id":             wantSub,
		"provider":       e2eProvider,
		"subject":        e2eLogin,
		"email":          e2eLogin + "@example.com",
		"email_verified": true,
		"name":           "Ada Lovelace",
	} {
		if got := res.User[k]; got != want {
			t.Errorf("user.%s = %#v, want %#v", k, got, want)
		}
	}
	if res.AppState != e2eAppState {
		t.Errorf("app_state = %q, want %q", res.AppState, e2eAppState)
	}

	// The provider's tokens, passed through: the ID token is the
	// provider's, for our client, with the nonce of the authorization URL.
	if res.Provider.AccessToken == "" || res.Provider.IDToken == "" {
		t.Fatalf("provider tokens missing: %+v", res.Provider)
	}
	opKeys, err := jwk.Fetch(ctx, op.Meta.JwksURI, jwk.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatalf("provider JWKS: %v", err)
	}
	idt, err := jwt.ParseString(res.Provider.IDToken, jwt.WithKeySet(opKeys), jwt.WithIssuer(op.Issuer), jwt.WithAudience(e2eClientID))
	if err != nil {
		t.Errorf("provider.id_token does not verify against the provider's keys: %v", err)
	} else {
		authURL, _ := url.Parse(f.URL)
		if nonce, _ := idt.Get("nonce"); nonce != authURL.Query().Get("nonce") || idt.Subject() != e2eLogin {
			t.Errorf("provider.id_token nonce %v sub %q, want the authorization URL's nonce %q and %q", nonce, idt.Subject(), authURL.Query().Get("nonce"), e2eLogin)
		}
	}

	// RP-initiated logout at the provider's end_session endpoint.
	lu, err := url.Parse(res.Provider.LogoutURL)
	if err != nil || res.Provider.LogoutURL == "" {
		t.Fatalf("provider.logout_url %q: %v", res.Provider.LogoutURL, err)
	}
	if !strings.HasPrefix(res.Provider.LogoutURL, op.Meta.EndSessionEndpoint+"?") {
		t.Errorf("provider.logout_url %s does not start with the end_session_endpoint %s", res.Provider.LogoutURL, op.Meta.EndSessionEndpoint)
	}
	lq := lu.Query()
	if lq.Get("client_id") != e2eClientID {
		t.Errorf("provider.logout_url client_id = %q, want %q", lq.Get("client_id"), e2eClientID)
	}
	if lq.Get("id_token_hint") != res.Provider.IDToken {
		t.Errorf("provider.logout_url id_token_hint is not provider.id_token")
	}
	if got := lq.Get("post_logout_redirect_uri"); got != postLogoutURI {
		t.Errorf("provider.logout_url post_logout_redirect_uri = %q, want %q", got, postLogoutURI)
	}
}
