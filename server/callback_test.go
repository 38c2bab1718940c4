package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/oidc/presettest"
	"github.com/edgeauth/edgeauth/userhook"
)

const (
	appleApp      = "https://app.example.test/apple"
	appleAppAlt   = "https://app.example.test/apple-other?from=settings"
	appleServices = "com.example.web"
	appleRelay    = "x7q2@privaterelay.appleid.com"
)

// withApple adds provider "apple" (the preset, pointed at the fake, with a
// team key) whose app redirect URIs are appleApp and appleAppAlt.
func withApple(t *testing.T, fake **presettest.Apple) harnessOpt {
	return func(cfg *Config, o *oidctest.Options) {
		key, pub := presettest.NewAppleKey(t)
		*fake = presettest.NewApple(t, presettest.AppleOptions{
			ClientID: appleServices, TeamID: "TEAM123456", KeyID: "KEY1234567", ClientKey: pub,
			User: presettest.AppleUser{Subject: "001234.abc.1234", Email: appleRelay, Private: true, FirstName: "Ada", LastName: "Lovelace"},
			Now:  o.Now,
		})
		cfg.Providers = append(cfg.Providers, ProviderConfig{
			Name: "apple", DisplayName: "Apple",
			RedirectURI: appleApp, RedirectURIs: []string{appleApp, appleAppAlt},
			OIDC: oidc.Config{
				Name: "apple", Type: "apple", Issuer: (*fake).Issuer(), ClientID: appleServices,
				TeamID: "TEAM123456", KeyID: "KEY1234567", PrivateKey: key, Timeout: 5 * time.Second,
			},
		})
	}
}

func newAppleHarness(t *testing.T, opts ...harnessOpt) (*harness, *presettest.Apple) {
	t.Helper()
	var fake *presettest.Apple
	h := newHarness(t, append([]harnessOpt{withApple(t, &fake)}, opts...)...)
	fake.AddRedirectURI(h.edge.URL + "/oauth2/callback/apple")
	return h, fake
}

// startApple asks for an authorization URL and lets the fake answer it:
// the form its page would post to edgeauth's callback.
func (h *harness) startApple(fake *presettest.Apple, query string) (urlResponse, string, url.Values) {
	h.t.Helper()
	var u urlResponse
	if res := h.get("/oauth2/url?provider=apple&"+query, &u); res.StatusCode != http.StatusOK {
		h.t.Fatalf("GET /oauth2/url: %d", res.StatusCode)
	}
	action, form, err := fake.Authorize(u.URL)
	if err != nil {
		h.t.Fatal(err)
	}
	return u, action, form
}

// postForm posts a form to edgeauth without following redirects.
func (h *harness) postForm(path, contentType string, form url.Values) (*http.Response, []byte) {
	h.t.Helper()
	res, err := h.client.Post(h.edge.URL+path, contentType, strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

// TestFormCallback: the whole form_post flow. Apple is sent edgeauth's
// callback as redirect_uri; the callback answers 303 to the app's
// redirect URI with code, state and user; /oauth2/token redeems the code
// with the callback URL and passes the name from the user JSON on to the
// webhook, never its email.
func TestFormCallback(t *testing.T) {
	rcv := newReceiver(t, func(int) (int, string) { return 200, `{"user_id":"u-1"}` })
	h, fake := newAppleHarness(t, withHook(rcv.srv.URL, 0))
	callback := h.edge.URL + "/oauth2/callback/apple"

	u, action, form := h.startApple(fake, "")
	au, _ := url.Parse(u.URL)
	if got := au.Query().Get("redirect_uri"); got != callback {
		t.Fatalf("redirect_uri sent to Apple %q, want the callback %q", got, callback)
	}
	if action != callback || form.Get("user") == "" {
		t.Fatalf("the fake posts to %s with %v", action, form)
	}
	res, body := h.postForm("/oauth2/callback/apple", "application/x-www-form-urlencoded", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", res.StatusCode, body)
	}
	if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers: %v", res.Header)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != appleApp {
		t.Fatalf("Location %q, want the app's %s", res.Header.Get("Location"), appleApp)
	}
	q := loc.Query()
	if q.Get("code") != form.Get("code") || q.Get("state") != u.State || q.Get("user") != form.Get("user") {
		t.Fatalf("Location query %v, form %v", q, form)
	}

	// The app passes on the user JSON, with an email of its choosing: the
	// ID token's address wins.
	user := `{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"ceo@example.com"}`
	var out tokenResponse
	tr := h.post("/oauth2/token", map[string]string{"provider": "apple", "code": q.Get("code"), "state": q.Get("state"), "user": user}, &out)
	if tr.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %+v", tr.StatusCode, out)
	}
	if out.User["name"] != "Ada Lovelace" || out.User["email"] != appleRelay || out.User["id"] != "u-1" {
		t.Errorf("user %v", out.User)
	}
	bodies, _ := rcv.deliveries()
	if len(bodies) != 1 {
		t.Fatalf("%d webhook deliveries", len(bodies))
	}
	var ev userhook.Event
	if err := json.Unmarshal(bodies[0], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Data.Name != "Ada Lovelace" || ev.Data.Email != appleRelay || !ev.Data.EmailVerified || ev.Data.Claims["is_private_email"] != true {
		t.Errorf("webhook event data %+v", ev.Data)
	}

	// A flow started with another allowed redirect URI comes back there,
	// its own query kept.
	u2, _, form2 := h.startApple(fake, "redirect_uri="+url.QueryEscape(appleAppAlt))
	res, _ = h.postForm("/oauth2/callback/apple", "application/x-www-form-urlencoded", form2)
	loc, _ = url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), "https://app.example.test/apple-other?") ||
		loc.Query().Get("from") != "settings" || loc.Query().Get("state") != u2.State || loc.Query().Has("user") {
		t.Errorf("second flow: %d to %s (no user JSON the second time)", res.StatusCode, loc)
	}
	var out2 tokenResponse
	tr = h.post("/oauth2/token", map[string]string{"provider": "apple", "code": loc.Query().Get("code"), "state": u2.State}, &out2)
	if tr.StatusCode != http.StatusOK || out2.User["name"] != nil {
		t.Errorf("second token: %d %v", tr.StatusCode, out2.User)
	}
}

// TestFormCallbackRefuses is the callback's state check: without a valid,
// unexpired state of this provider the answer is a problem and no
// redirect, so the callback never sends a browser anywhere on an
// attacker's word.
func TestFormCallbackRefuses(t *testing.T) {
	h, fake := newAppleHarness(t)
	_, _, form := h.startApple(fake, "")
	opState := h.start("").State
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range form {
			f[key] = vs
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	for _, tc := range []struct {
		name, path, ctype string
		form              url.Values
		before            func()
		status            int
		code              string
	}{
		{name: "no state", form: with("state", ""), status: 400, code: "invalid_request"},
		{name: "forged state", form: with("state", "eyJhbGciOiJkaXIifQ..x.y.z"), status: 400, code: "invalid_state"},
		{name: "altered state", form: with("state", tamper(form.Get("state"))), status: 400, code: "invalid_state"},
		{name: "state of another provider", form: with("state", opState), status: 400, code: "provider_mismatch"},
		{name: "neither code nor error", form: with("code", ""), status: 400, code: "invalid_request"},
		{name: "two codes", form: url.Values{"state": {form.Get("state")}, "code": {"a", "b"}}, status: 400, code: "invalid_request"},
		{name: "bad error value", form: with("error", "<script>"), status: 400, code: "invalid_request"},
		{name: "user too large", form: with("user", strings.Repeat("x", 2000)), status: 400, code: "invalid_request"},
		{name: "json body", ctype: "application/json", form: form, status: 415, code: "unsupported_media_type"},
		{name: "no such provider", path: "/oauth2/callback/nope", form: form, status: 404, code: "unknown_provider"},
		{name: "provider without form_post", path: "/oauth2/callback/op", form: form, status: 404, code: "unknown_provider"},
		// Last: the clock moves on.
		{name: "expired state", form: form, before: func() { h.clock.Advance(11 * time.Minute) }, status: 400, code: "expired_state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			path, ctype := tc.path, tc.ctype
			if path == "" {
				path = "/oauth2/callback/apple"
			}
			if ctype == "" {
				ctype = "application/x-www-form-urlencoded"
			}
			res, body := h.postForm(path, ctype, tc.form)
			if res.Header.Get("Location") != "" {
				t.Fatalf("redirected to %s", res.Header.Get("Location"))
			}
			var p struct{ Code string }
			_ = json.Unmarshal(body, &p)
			if res.StatusCode != tc.status || p.Code != tc.code || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("got %d %s (%s), want %d %s", res.StatusCode, p.Code, res.Header.Get("Content-Type"), tc.status, tc.code)
			}
		})
	}
}

// TestFormCallbackError: Apple's error (the person pressed Cancel) goes on
// to the app with the state, and no code.
func TestFormCallbackError(t *testing.T) {
	h, fake := newAppleHarness(t)
	fake.SetCancel(true)
	u, _, form := h.startApple(fake, "")
	form.Set("error_description", "The user cancelled.")
	res, body := h.postForm("/oauth2/callback/apple", "application/x-www-form-urlencoded", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	loc, _ := url.Parse(res.Header.Get("Location"))
	q := loc.Query()
	if q.Get("error") != "user_cancelled_authorize" || q.Get("error_description") != "The user cancelled." || q.Get("state") != u.State || q.Has("code") {
		t.Errorf("Location query %v", q)
	}
}

// TestTokenAppleUser: the user field is bounded and strictly shaped, and
// only for Apple; a refused one leaves the code unspent.
func TestTokenAppleUser(t *testing.T) {
	h, fake := newAppleHarness(t)
	u, _, form := h.startApple(fake, "")
	opFlow := h.start("")
	for _, tc := range []struct {
		name, provider, state, user string
	}{
		{"oversized", "apple", u.State, `{"name":{"firstName":"` + strings.Repeat("A", 1100) + `"}}`},
		{"not JSON", "apple", u.State, "Ada Lovelace"},
		{"an array", "apple", u.State, `[{"name":{}}]`},
		{"unknown field", "apple", u.State, `{"name":{"firstName":"Ada"},"admin":true}`},
		{"name not an object", "apple", u.State, `{"name":"Ada"}`},
		{"trailing data", "apple", u.State, `{"name":{"firstName":"Ada"}} {}`},
		{"control character", "apple", u.State, `{"name":{"firstName":"Ada\u0007"}}`},
		{"bidi override", "apple", u.State, `{"name":{"firstName":"Ada\u202e"}}`},
		{"long name part", "apple", u.State, `{"name":{"firstName":"` + strings.Repeat("é", 200) + `"}}`},
		{"not apple", "op", opFlow.State, `{"name":{"firstName":"Ada"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p struct{ Code, Detail string }
			res := h.post("/oauth2/token", map[string]string{"provider": tc.provider, "code": form.Get("code"), "state": tc.state, "user": tc.user}, &p)
			if res.StatusCode != http.StatusBadRequest || p.Code != "invalid_request" || !strings.Contains(p.Detail, "user") {
				t.Errorf("got %d %s %q", res.StatusCode, p.Code, p.Detail)
			}
		})
	}
	// The code was never sent to Apple: it still works.
	res, _ := h.postForm("/oauth2/callback/apple", "application/x-www-form-urlencoded", form)
	loc, _ := url.Parse(res.Header.Get("Location"))
	var out tokenResponse
	tr := h.post("/oauth2/token", map[string]string{"provider": "apple", "code": loc.Query().Get("code"), "state": u.State, "user": loc.Query().Get("user")}, &out)
	if tr.StatusCode != http.StatusOK || out.User["name"] != "Ada Lovelace" {
		t.Errorf("after the refusals: %d %v", tr.StatusCode, out.User)
	}
}

func TestAppleUserName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"a@b.c"}`, "Ada Lovelace"},
		{`{"name":{"firstName":" Ada "}}`, "Ada"},
		{`{"name":{"lastName":"Lovelace"}}`, "Lovelace"},
		{`{"email":"a@b.c"}`, ""},
		{`{"name":{"firstName":"李","lastName":"小龙"}}`, "李 小龙"},
	} {
		got, err := appleUserName(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("appleUserName(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestAppleEnv: the apple settings from the environment, each problem
// under its variable, none of them quoting the key; with a key, the
// provider's callback URL is the redirect URI sent to Apple.
func TestAppleEnv(t *testing.T) {
	key, _ := presettest.NewAppleKey(t)
	escaped := strings.ReplaceAll(strings.TrimSpace(key), "\n", `\n`)
	base := map[string]string{
		"EDGEAUTH_PROVIDERS":          "apple",
		"EDGEAUTH_APPLE_CLIENT_ID":    appleServices,
		"EDGEAUTH_APPLE_REDIRECT_URI": "https://app.example.com/apple",
		"EDGEAUTH_APPLE_TEAM_ID":      "TEAM123456",
		"EDGEAUTH_APPLE_KEY_ID":       "KEY1234567",
		"EDGEAUTH_APPLE_PRIVATE_KEY":  escaped,
	}
	for _, tc := range []struct {
		name     string
		edits    map[string]string
		variable string // "" accepted
		inMsg    string
	}{
		{name: "key with escaped newlines"},
		{name: "key as PEM", edits: map[string]string{"EDGEAUTH_APPLE_PRIVATE_KEY": key}},
		{name: "no key id", edits: map[string]string{"EDGEAUTH_APPLE_KEY_ID": ""}, variable: "EDGEAUTH_APPLE_KEY_ID", inMsg: "missing"},
		{name: "key and secret", edits: map[string]string{"EDGEAUTH_APPLE_CLIENT_SECRET": "eyJ.a.b"}, variable: "EDGEAUTH_APPLE_CLIENT_SECRET", inMsg: "not both"},
		{name: "bad key", edits: map[string]string{"EDGEAUTH_APPLE_PRIVATE_KEY": escaped[:120]}, variable: "EDGEAUTH_APPLE_PRIVATE_KEY", inMsg: "PEM"},
		{name: "no secret at all", edits: map[string]string{"EDGEAUTH_APPLE_TEAM_ID": "", "EDGEAUTH_APPLE_KEY_ID": "", "EDGEAUTH_APPLE_PRIVATE_KEY": ""},
			variable: "EDGEAUTH_APPLE_CLIENT_SECRET", inMsg: "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edits := map[string]string{"EDGEAUTH_ACME_ISSUER": "", "EDGEAUTH_ACME_CLIENT_ID": "", "EDGEAUTH_ACME_CLIENT_SECRET": "",
				"EDGEAUTH_ACME_REDIRECT_URI": "", "EDGEAUTH_ACME_REDIRECT_URIS": "", "EDGEAUTH_ACME_SCOPES": "",
				"EDGEAUTH_ACME_AUTH_PARAMS": "", "EDGEAUTH_ACME_TIMEOUT": "", "EDGEAUTH_ACME_ALLOWED_EMAIL_DOMAINS": ""}
			for k, v := range base {
				edits[k] = v
			}
			for k, v := range tc.edits {
				edits[k] = v
			}
			cfg, err := loadEnv(t, edits, nil)
			if err != nil {
				for _, leak := range []string{escaped[30:60], escaped[60:90]} {
					if strings.Contains(err.Error(), leak) {
						t.Errorf("the error quotes the key:\n%v", err)
					}
				}
			}
			if tc.variable == "" {
				if err != nil {
					t.Fatal(err)
				}
				if out := fmt.Sprintf("%v %+v %#v", cfg, cfg.Providers[0], cfg.Providers[0]); strings.Contains(out, escaped[40:80]) {
					t.Error("printing the config shows the key")
				}
				rp, err := oidc.New(cfg.Providers[0].OIDC)
				if err != nil {
					t.Fatal(err)
				}
				if got := callbackURI(cfg.PublicURL, cfg.Providers[0].Name, rp); got != "https://auth.example.com/oauth2/callback/apple" {
					t.Errorf("callback %q", got)
				}
				return
			}
			p, ok := problemFor(t, err, tc.variable)
			if !ok || !strings.Contains(p.Msg, tc.inMsg) {
				t.Fatalf("no %s problem with %q:\n%v", tc.variable, tc.inMsg, err)
			}
		})
	}
}

// FuzzAppleUserName: whatever the app passes as user, the name is plain
// text within the bounds, or the request is refused.
func FuzzAppleUserName(f *testing.F) {
	for _, s := range []string{`{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"a@b.c"}`, `{}`, `{"name":null}`, `[]`, `"x"`, `{"name":{"firstName":"\u202e"}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		name, err := appleUserName(in)
		if err != nil {
			return
		}
		if !utf8.ValidString(name) || utf8.RuneCountInString(name) > 2*maxAppleNamePartRunes+1 || strings.ContainsFunc(name, unicode.IsControl) {
			t.Fatalf("appleUserName(%q) = %q", in, name)
		}
	})
}

// TestCheckNamesAppleCallback: `edgeauth check` prints the redirect URI to
// register at Apple, which is edgeauth's callback and not the app's page.
func TestCheckNamesAppleCallback(t *testing.T) {
	h, _ := newAppleHarness(t)
	var out strings.Builder
	if err := Check(t.Context(), h.cfg, nil, &out); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	want := "register redirect URI " + h.cfg.PublicURL + "/oauth2/callback/apple"
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "apple ") {
			if !strings.Contains(line, want) {
				t.Fatalf("apple line %q lacks %q", line, want)
			}
			return
		}
	}
	t.Fatalf("no apple line in:\n%s", out.String())
}
