package oidc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/oidc/presettest"
	"golang.org/x/oauth2"
)

const (
	presetAppID    = "1090000000000000001"
	presetSecret   = "preset-app-secret-value"
	presetRedirect = "https://app.example/callback/preset"
)

// presetProvider makes a Provider for a preset named name whose provider
// hosts are served by a fake through client.
func presetProvider(t *testing.T, name string, client *http.Client, edit func(*Config)) *Provider {
	t.Helper()
	c := Config{Name: name, ClientID: presetAppID, ClientSecret: presetSecret, HTTPClient: client, Timeout: 5 * time.Second}
	if edit != nil {
		edit(&c)
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// presetLogin runs AuthCodeURL, the fake's consent (authorize) and
// Exchange, passing on the iss the redirect carried.
func presetLogin(t *testing.T, p *Provider, authorize func(string) (*url.URL, error)) (*Result, *url.URL, error) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	authURL, err := p.AuthCodeURL(context.Background(), AuthRequest{State: "st-1", CodeVerifier: verifier, RedirectURI: presetRedirect})
	if err != nil {
		t.Fatal(err)
	}
	back, err := authorize(authURL)
	if err != nil {
		t.Fatalf("authorize %s: %v", authURL, err)
	}
	q := back.Query()
	if q.Get("state") != "st-1" || q.Get("code") == "" {
		t.Fatalf("redirect %s: want code and state st-1", back)
	}
	res, err := p.Exchange(context.Background(), ExchangeRequest{Code: q.Get("code"), CodeVerifier: verifier, RedirectURI: presetRedirect, Issuer: q.Get("iss")})
	return res, back, err
}

func wantCode(t *testing.T, err error, code ErrorCode) *Error {
	t.Helper()
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Code != code {
		t.Fatalf("error %v: want code %s", err, code)
	}
	return e
}

func TestDiscordLogin(t *testing.T) {
	d := presettest.NewDiscord(t, presetAppID, presetSecret)
	p := presetProvider(t, "discord", d.Client(), nil)
	res, back, err := presetLogin(t, p, func(u string) (*url.URL, error) {
		au, _ := url.Parse(u)
		q := au.Query()
		if au.Host != "discord.com" || au.Path != "/oauth2/authorize" || q.Get("scope") != "identify email" || q.Get("code_challenge_method") != "S256" {
			t.Errorf("authorization URL %s", u)
		}
		return d.Authorize(u)
	})
	if err != nil {
		t.Fatal(err)
	}
	if back.Query().Get("iss") != presettest.DiscordIssuer {
		t.Fatalf("redirect %s carries no iss", back)
	}
	id := res.Identity
	want := Identity{Issuer: "https://discord.com", Subject: "80351110224678912", Email: "nelly@example.com", EmailVerified: true,
		Name: "Nelly", Picture: "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png"}
	if id.Issuer != want.Issuer || id.Subject != want.Subject || id.Email != want.Email || id.EmailVerified != want.EmailVerified ||
		id.Name != want.Name || id.Picture != want.Picture {
		t.Fatalf("identity %+v, want %+v", id, want)
	}
	if id.Userinfo["preferred_username"] != "nelly" {
		t.Errorf("preferred_username %v", id.Userinfo["preferred_username"])
	}

	// Refresh rotates: the old refresh token is spent.
	rt := res.Tokens.RefreshToken
	if rt == "" {
		t.Fatal("no refresh token")
	}
	ref, err := p.Refresh(context.Background(), rt, id.Subject)
	if err != nil || ref.Tokens.AccessToken == "" || ref.Tokens.RefreshToken == rt {
		t.Fatalf("refresh: %+v, %v", ref, err)
	}
	_, err = p.Refresh(context.Background(), rt, id.Subject)
	wantCode(t, err, CodeExchangeFailed)

	if err := p.Revoke(context.Background(), ref.Tokens.AccessToken, "access_token"); err != nil {
		t.Fatal(err)
	}
	if !d.Revoked(ref.Tokens.AccessToken) {
		t.Fatal("the fake did not see the revocation")
	}
	_, err = p.LogoutURL(context.Background(), LogoutRequest{})
	wantCode(t, err, CodeUnsupported)
}

// TestDiscordIssuerParam: Discord's metadata
// (https://discord.com/.well-known/oauth-authorization-server) says
// authorization_response_iss_parameter_supported, so a callback without
// iss, or with another one, is a mix-up (RFC 9207 §2.4).
func TestDiscordIssuerParam(t *testing.T) {
	d := presettest.NewDiscord(t, presetAppID, presetSecret)
	p := presetProvider(t, "discord", d.Client(), nil)
	for _, iss := range []string{"https://discord.com/", ""} {
		_, err := p.Exchange(context.Background(), ExchangeRequest{Code: "c", CodeVerifier: oauth2.GenerateVerifier(), RedirectURI: presetRedirect, Issuer: iss})
		wantCode(t, err, CodeIssuerMismatch)
	}
}

// TestDiscordProfile: one row per quirk of the user object.
func TestDiscordProfile(t *testing.T) {
	tests := []struct {
		name     string
		profile  string
		sub      string
		email    string
		verified bool
		userName string
		picture  string
		fails    bool
	}{
		{name: "unverified email is not verified",
			profile: `{"id":"80351110224678912","username":"nelly","global_name":null,"avatar":null,"verified":false,"email":"nelly@example.com"}`,
			sub:     "80351110224678912", email: "nelly@example.com", verified: false, userName: "nelly"},
		{name: "verified without an email verifies nothing",
			profile: `{"id":"80351110224678912","username":"nelly","avatar":null,"verified":true,"email":null}`,
			sub:     "80351110224678912", userName: "nelly"},
		{name: "verified email",
			profile: `{"id":"80351110224678912","username":"nelly","verified":true,"email":"n@example.com"}`,
			sub:     "80351110224678912", email: "n@example.com", verified: true, userName: "nelly"},
		{name: "snowflake beyond float64 kept exactly",
			profile: `{"id":"1234567890123456789","username":"big","global_name":"Big One","avatar":"a_1269e74af4df7417b13759eae50c83dc"}`,
			sub:     "1234567890123456789", userName: "Big One",
			picture: "https://cdn.discordapp.com/avatars/1234567890123456789/a_1269e74af4df7417b13759eae50c83dc.png"},
		{name: "global_name wins over username",
			profile: `{"id":"1","username":"nelly","global_name":"Nelly N"}`, sub: "1", userName: "Nelly N"},
		{name: "a hash that would change the CDN path gives no picture",
			profile: `{"id":"1","username":"x","avatar":"../../evil"}`, sub: "1", userName: "x"},
		{name: "an email_verified claim Discord never sends is ignored",
			profile: `{"id":"1","username":"x","email":"x@example.com","email_verified":true}`, sub: "1", email: "x@example.com", userName: "x"},
		{name: "a numeric id is not Discord's shape",
			profile: `{"id":80351110224678912,"username":"nelly"}`, fails: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := presettest.NewDiscord(t, presetAppID, presetSecret)
			d.SetProfile(tc.profile)
			p := presetProvider(t, "discord", d.Client(), nil)
			res, _, err := presetLogin(t, p, d.Authorize)
			if tc.fails {
				wantCode(t, err, CodeUserinfoFailed)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			id := res.Identity
			if id.Subject != tc.sub || id.Email != tc.email || id.EmailVerified != tc.verified || id.Name != tc.userName || id.Picture != tc.picture {
				t.Fatalf("identity sub=%q email=%q verified=%v name=%q picture=%q; want %q %q %v %q %q",
					id.Subject, id.Email, id.EmailVerified, id.Name, id.Picture, tc.sub, tc.email, tc.verified, tc.userName, tc.picture)
			}
		})
	}
}

func TestDiscordConvert(t *testing.T) {
	d := presettest.NewDiscord(t, presetAppID, presetSecret)
	const otherApp = "1090000000000000999"
	tests := []struct {
		name  string
		token func() string
		edit  func(*Config)
		check string // "" for success, else the Check of the invalid_token
	}{
		{name: "our app's token", token: func() string { return d.TokenForApp(presetAppID) }},
		{name: "another app's token", token: func() string { return d.TokenForApp(otherApp) }, check: "token_check"},
		{name: "another app listed in CONVERT_AUDIENCES", token: func() string { return d.TokenForApp(otherApp) },
			edit: func(c *Config) { c.ConvertAudiences = []string{otherApp} }},
		{name: "unknown token", token: func() string { return "forged" }, check: "token_check"},
		{name: "expired by our clock", token: func() string { return d.TokenForApp(presetAppID) },
			edit: func(c *Config) { c.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } }, check: "exp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := presetProvider(t, "discord", d.Client(), tc.edit)
			id, err := p.Convert(context.Background(), ConvertRequest{Token: tc.token()})
			if tc.check != "" {
				if e := wantCode(t, err, CodeInvalidToken); e.Check != tc.check {
					t.Fatalf("check %q, want %q (%v)", e.Check, tc.check, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "80351110224678912" || !id.EmailVerified || id.Email != "nelly@example.com" {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

// TestDiscordConvertUserMismatch: /users/@me must be about the user
// /oauth2/@me named.
func TestDiscordConvertUserMismatch(t *testing.T) {
	d := presettest.NewDiscord(t, presetAppID, presetSecret)
	p := presetProvider(t, "discord", &http.Client{Transport: rewriteBody{base: d.Client().Transport, path: "/api/v10/users/@me",
		from: `"id":"80351110224678912"`, to: `"id":"80351110224678913"`}}, nil)
	_, err := p.Convert(context.Background(), ConvertRequest{Token: d.TokenForApp(presetAppID)})
	wantCode(t, err, CodeInvalidToken)
}

// rewriteBody edits one answer on its way back, to play a provider whose
// two endpoints disagree.
type rewriteBody struct {
	base           http.RoundTripper
	path, from, to string
}

func (r rewriteBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil || req.URL.Path != r.path {
		return resp, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body := strings.Replace(string(raw), r.from, r.to, 1)
	resp.Body = io.NopCloser(strings.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}
