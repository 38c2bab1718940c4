package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgeauth/edgeauth/oidc/presettest"
	"github.com/edgeauth/edgeauth/userhook"
)

// TestAppleFormPostInBrowser drives Sign in with Apple's form_post flow in
// headless Chromium against the Apple fake: the SPA's authorization URL
// opens the fake's page, which form-POSTs code, state and the user JSON to
// edgeauth's /oauth2/callback/apple; edgeauth answers 303 to the app's
// page, whose script posts code, state, user and its binding to
// /oauth2/token across origins (CORS). The fake accepts only the ES256
// client secret edgeauth made from the key (given with its line breaks
// written as \n, as an environment variable carries it), and the webhook
// receives the name from the user JSON, which Apple sends only once.
func TestAppleFormPostInBrowser(t *testing.T) {
	browser := newBrowser(t)
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()

	const (
		clientID = "com.example.e2e.web"
		teamID   = "TEAMAPPLE1"
		keyID    = "KEYAPPLE01"
		relay    = "k3v9@privaterelay.appleid.com"
	)
	key, pub := presettest.NewAppleKey(t)
	fake := presettest.NewApple(t, presettest.AppleOptions{
		ClientID: clientID, TeamID: teamID, KeyID: keyID, ClientKey: pub,
		User: presettest.AppleUser{Subject: "000123.e2e.0456", Email: relay, Private: true, FirstName: "Grace", LastName: "Hopper"},
	})
	hook := newAppleHook(t)
	app := newAppleApp(t)

	env := map[string]string{
		"EDGEAUTH_PROVIDERS":          "apple",
		"EDGEAUTH_APPLE_ISSUER":       fake.Issuer(),
		"EDGEAUTH_APPLE_CLIENT_ID":    clientID,
		"EDGEAUTH_APPLE_TEAM_ID":      teamID,
		"EDGEAUTH_APPLE_KEY_ID":       keyID,
		"EDGEAUTH_APPLE_PRIVATE_KEY":  strings.ReplaceAll(strings.TrimSpace(key), "\n", `\n`),
		"EDGEAUTH_APPLE_REDIRECT_URI": app.URL() + "/apple/callback",
		"EDGEAUTH_CORS_ORIGINS":       app.URL(),
		"EDGEAUTH_USERHOOK_URL":       hook.srv.URL,
		"EDGEAUTH_USERHOOK_SECRET":    hook.secret,
	}
	maps.Copy(env, freshKeys(t))
	publicURL := startEdgeauth(t, []string{"serve"}, env)
	app.setEdge(publicURL)
	callback := publicURL + "/oauth2/callback/apple"
	fake.AddRedirectURI(callback)

	login := func(t *testing.T) (url.Values, e2eTokenResponse) {
		t.Helper()
		binding := randomBinding(t)
		var start struct {
			URL   string `json:"url"`
			State string `json:"state"`
		}
		getJSON(ctx, t, publicURL+"/oauth2/url?"+url.Values{"provider": {"apple"}, "binding": {binding}}.Encode(), &start)
		au, err := url.Parse(start.URL)
		if err != nil || au.Query().Get("redirect_uri") != callback || au.Query().Get("response_mode") != "form_post" {
			t.Fatalf("authorization URL %s: want redirect_uri %s and response_mode form_post", start.URL, callback)
		}
		app.expect(start.State, binding)

		if err := chromedp.Do(ctx, chromedp.Navigate(start.URL)); err != nil {
			t.Fatalf("navigate to the authorization URL: %v\npage %s", err, pageText(ctx))
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#done`))); err != nil {
			t.Fatalf("the app's page never finished: %v\npage %s", err, pageText(ctx))
		}
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if !strings.HasPrefix(loc, app.URL()+"/apple/callback?") {
			t.Fatalf("the browser ended at %s, want the app's redirect URI", loc)
		}
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#done').dataset.status`))
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#done').textContent`))
		if status != "200" {
			t.Fatalf("POST /oauth2/token from the app's page: %s %s", status, text)
		}
		var res e2eTokenResponse
		if err := json.Unmarshal([]byte(text), &res); err != nil {
			t.Fatalf("token response: %v\n%s", err, text)
		}
		q := app.query(ctx, t)
		if q.Get("state") != start.State || q.Get("code") == "" {
			t.Errorf("the app's page got %v", q)
		}
		return q, res
	}

	// First login: the user JSON comes with it, its name reaches the webhook.
	q, res := login(t)
	if !strings.Contains(q.Get("user"), `"firstName":"Grace"`) {
		t.Errorf("first login without Apple's user JSON: %v", q)
	}
	at := verifyAccessToken(ctx, t, publicURL, res.API.Access)
	if at.Subject() != "apple-user-1" {
		t.Errorf("api.access sub %q, want the webhook's user_id", at.Subject())
	}
	if res.API.Refresh == "" || res.Provider.AccessToken == "" || res.Provider.IDToken == "" {
		t.Errorf("tokens missing: %+v", res)
	}
	for k, want := range map[string]any{"id": "apple-user-1", "name": "Grace Hopper", "email": relay, "email_verified": true} {
		if res.User[k] != want {
			t.Errorf("user.%s = %#v, want %#v", k, res.User[k], want)
		}
	}
	first := hook.event(ctx, t)
	if first.Type != userhook.EventLogin || first.Data.Name != "Grace Hopper" || first.Data.Email != relay ||
		!first.Data.EmailVerified || first.Data.Claims["is_private_email"] != true || first.Data.Subject != "000123.e2e.0456" {
		t.Errorf("webhook event %+v", first)
	}
	if n := len(fake.ClientSecrets()); n != 1 {
		t.Errorf("%d client secrets presented to the fake, want 1 (one token request)", n)
	}

	// Second login in the same browser: no user JSON, so no name; the
	// backend keeps the one it stored.
	q, res = login(t)
	if q.Has("user") || res.User["name"] != nil {
		t.Errorf("second login: query %v, user %v", q, res.User)
	}
	if second := hook.event(ctx, t); second.Data.Name != "" {
		t.Errorf("second webhook event has name %q", second.Data.Name)
	}
}

// appleHook is the backend's webhook: it verifies each delivery and
// answers user_id apple-user-1.
type appleHook struct {
	srv    *httptest.Server
	secret string
	events chan userhook.Event
}

func newAppleHook(t *testing.T) *appleHook {
	h := &appleHook{secret: newSecret(t), events: make(chan userhook.Event, 4)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := userhook.Verify(h.secret, r.Header, body, time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var e userhook.Event
		if err := json.Unmarshal(body, &e); err != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		select {
		case h.events <- e:
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"user_id":"apple-user-1"}`)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *appleHook) event(ctx context.Context, t *testing.T) userhook.Event {
	t.Helper()
	select {
	case e := <-h.events:
		return e
	case <-ctx.Done():
		t.Fatalf("no webhook event: %v", ctx.Err())
		return userhook.Event{}
	}
}

// appleApp is the SPA: its callback page reads code, state and user from
// the query and posts them with the flow's binding to /oauth2/token from
// the browser, showing the answer in #done.
type appleApp struct {
	srv     *httptest.Server
	queries chan url.Values

	mu       sync.Mutex
	edge     string
	bindings map[string]string // by state
}

func newAppleApp(t *testing.T) *appleApp {
	a := &appleApp{queries: make(chan url.Values, 4), bindings: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /apple/callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		select {
		case a.queries <- q:
		default:
		}
		a.mu.Lock()
		edge, binding := a.edge, a.bindings[q.Get("state")]
		a.mu.Unlock()
		edgeJS, _ := json.Marshal(edge)
		bindingJS, _ := json.Marshal(binding)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><title>app</title><p>signing in</p><script>
const q = new URLSearchParams(location.search);
const body = {provider: "apple", code: q.get("code"), state: q.get("state"), binding: %s};
if (q.get("user")) body.user = q.get("user");
const show = (status, text) => { const p = document.createElement("pre"); p.id = "done"; p.dataset.status = status; p.textContent = text; document.body.append(p); };
fetch(%s + "/oauth2/token", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
  .then(async r => show(String(r.status), await r.text()), e => show("0", String(e)));
</script>`, bindingJS, edgeJS)
	})
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *appleApp) URL() string { return a.srv.URL }

func (a *appleApp) setEdge(u string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.edge = u
}

func (a *appleApp) expect(state, binding string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.bindings[state] = binding
}

func (a *appleApp) query(ctx context.Context, t *testing.T) url.Values {
	t.Helper()
	select {
	case q := <-a.queries:
		return q
	case <-ctx.Done():
		t.Fatalf("the app's callback page was never loaded: %v", ctx.Err())
		return nil
	}
}
