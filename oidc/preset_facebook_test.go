package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/oidc/presettest"
	"golang.org/x/oauth2"
)

func TestFacebookLogin(t *testing.T) {
	f := presettest.NewFacebook(t, presetAppID, presetSecret)
	p := presetProvider(t, "facebook", f.Client(), nil)
	res, _, err := presetLogin(t, p, func(u string) (*url.URL, error) {
		au, _ := url.Parse(u)
		if au.Host != "www.facebook.com" || au.Path != "/"+facebookGraph+"/dialog/oauth" || au.Query().Get("scope") != "public_profile email" {
			t.Errorf("authorization URL %s", u)
		}
		return f.Authorize(u)
	})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Identity
	if id.Issuer != "https://www.facebook.com" || id.Subject != "10215241773831025" || id.Name != "Ada Lovelace" || id.Email != "ada@example.com" {
		t.Fatalf("identity %+v", id)
	}
	if id.EmailVerified {
		t.Error("Facebook documents no verification of the address: email_verified must stay false")
	}
	if !strings.HasPrefix(id.Picture, "https://platform-lookaside.fbsbx.com/") {
		t.Errorf("picture %q", id.Picture)
	}
	if res.Tokens.RefreshToken != "" || res.Tokens.ExpiresIn != 5183944 {
		t.Errorf("tokens %+v", res.Tokens)
	}
	err = p.Revoke(context.Background(), res.Tokens.AccessToken, "")
	wantCode(t, err, CodeUnsupported)
	_, err = p.LogoutURL(context.Background(), LogoutRequest{})
	wantCode(t, err, CodeUnsupported)
}

// TestFacebookPicture: the picture object becomes a URL, the default
// silhouette none.
func TestFacebookPicture(t *testing.T) {
	tests := []struct {
		name, url  string
		silhouette bool
		want       string
	}{
		{name: "a picture", url: "https://scontent.example/p.jpg", want: "https://scontent.example/p.jpg"},
		{name: "the default silhouette", url: "https://scontent.example/silhouette.jpg", silhouette: true},
		{name: "not https", url: "http://scontent.example/p.jpg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := presettest.NewFacebook(t, presetAppID, presetSecret)
			f.SetUser(presettest.FacebookUser{ID: "42", Name: "A", PictureURL: tc.url, Silhouette: tc.silhouette})
			res, _, err := presetLogin(t, presetProvider(t, "facebook", f.Client(), nil), f.Authorize)
			if err != nil {
				t.Fatal(err)
			}
			if res.Identity.Picture != tc.want {
				t.Fatalf("picture %q, want %q", res.Identity.Picture, tc.want)
			}
			if _, isObject := res.Identity.Userinfo["picture"].(map[string]any); isObject {
				t.Fatal("userinfo still holds the picture object")
			}
		})
	}
}

// TestFacebookIDString: the app-scoped id is a string of digits, kept
// exactly even beyond float64's range.
func TestFacebookIDString(t *testing.T) {
	f := presettest.NewFacebook(t, presetAppID, presetSecret)
	f.SetUser(presettest.FacebookUser{ID: "122098765432101234567", Name: "Big"})
	res, _, err := presetLogin(t, presetProvider(t, "facebook", f.Client(), nil), f.Authorize)
	if err != nil {
		t.Fatal(err)
	}
	if res.Identity.Subject != "122098765432101234567" || res.Identity.Email != "" || res.Identity.EmailVerified {
		t.Fatalf("identity %+v", res.Identity)
	}
}

// TestFacebookErrorNotLeaked: Graph's error object (HTTP 400) at the
// token endpoint is sorted by its code — a used or bad code is the
// client's problem, a refused app secret ours — and its message never
// reaches what a client sees.
func TestFacebookErrorNotLeaked(t *testing.T) {
	tests := []struct {
		name, secret string
		code         ErrorCode
		check        string
	}{
		{name: "used code", secret: presetSecret, code: CodeExchangeFailed, check: "token"},
		{name: "wrong app secret", secret: "wrong-secret", code: CodeUnavailable, check: "client_auth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := presettest.NewFacebook(t, presetAppID, presetSecret)
			p := presetProvider(t, "facebook", f.Client(), func(c *Config) { c.ClientSecret = tc.secret })
			_, err := p.Exchange(context.Background(), ExchangeRequest{Code: "used-code", CodeVerifier: oauth2.GenerateVerifier(), RedirectURI: presetRedirect})
			e := wantCode(t, err, tc.code)
			if e.Check != tc.check {
				t.Errorf("check %q, want %q", e.Check, tc.check)
			}
			if strings.Contains(e.Error(), "verification code") || strings.Contains(e.Error(), "validating") || strings.Contains(e.Error(), "OAuthException") {
				t.Fatalf("client-visible text carries Facebook's message: %q", e.Error())
			}
			if e.Err == nil || !strings.Contains(e.Err.Error(), "fbtrace_id") {
				t.Errorf("the cause (for logs) should keep Facebook's answer: %v", e.Err)
			}
		})
	}
}

func TestFacebookConvert(t *testing.T) {
	f := presettest.NewFacebook(t, presetAppID, presetSecret)
	const otherApp = "2090000000000000002"
	tests := []struct {
		name  string
		token func() string
		edit  func(*Config)
		code  ErrorCode // "" for success
		check string
	}{
		{name: "our app's token", token: func() string { return f.TokenForApp(presetAppID, time.Hour) }},
		{name: "a token that never expires", token: func() string { return f.TokenForApp(presetAppID, 0) }},
		{name: "another app's token", token: func() string { return f.TokenForApp(otherApp, time.Hour) }, code: CodeInvalidToken, check: "debug_token"},
		{name: "another app listed in CONVERT_AUDIENCES", token: func() string { return f.TokenForApp(otherApp, time.Hour) },
			edit: func(c *Config) { c.ConvertAudiences = []string{otherApp} }},
		{name: "expired at Facebook", token: func() string { return f.TokenForApp(presetAppID, -time.Minute) }, code: CodeInvalidToken, check: "debug_token"},
		{name: "expired by our clock", token: func() string { return f.TokenForApp(presetAppID, time.Hour) },
			edit: func(c *Config) { c.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } }, code: CodeInvalidToken, check: "exp"},
		{name: "unknown token", token: func() string { return "EAAforged" }, code: CodeInvalidToken, check: "debug_token"},
		{name: "our app secret refused", token: func() string { return f.TokenForApp(presetAppID, time.Hour) },
			edit: func(c *Config) { c.ClientSecret = "wrong-secret" }, code: CodeUnavailable, check: "debug_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := presetProvider(t, "facebook", f.Client(), tc.edit)
			id, err := p.Convert(context.Background(), ConvertRequest{Token: tc.token()})
			if tc.code != "" {
				if e := wantCode(t, err, tc.code); e.Check != tc.check {
					t.Fatalf("check %q, want %q (%v)", e.Check, tc.check, err)
				}
				if strings.Contains(err.Error(), "secret") && strings.Contains(err.Error(), presetSecret) {
					t.Fatal("the app secret is in the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "10215241773831025" || id.Email != "ada@example.com" || id.EmailVerified {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection reset")
}

// TestFacebookConvertNoSecretInErrors: debug_token's URL holds the app
// secret and the user's token; a failed call must not carry them into the
// error that gets logged.
func TestFacebookConvertNoSecretInErrors(t *testing.T) {
	var calls []Call
	p := presetProvider(t, "facebook", &http.Client{Transport: failingTransport{}}, func(c *Config) {
		c.Observe = func(call Call) { calls = append(calls, call) }
	})
	_, err := p.Convert(context.Background(), ConvertRequest{Token: "EAAuser-token-value"})
	wantCode(t, err, CodeUnavailable)
	texts := []string{fmt.Sprintf("%v", err), fmt.Sprintf("%v", errors.Unwrap(err))}
	for _, c := range calls {
		texts = append(texts, fmt.Sprintf("%v", c.Err))
	}
	if len(calls) != 1 || calls[0].Endpoint != CallTokenCheck {
		t.Fatalf("calls %+v", calls)
	}
	for _, s := range texts {
		if strings.Contains(s, presetSecret) || strings.Contains(s, "EAAuser-token-value") {
			t.Fatalf("secret or token in %q", s)
		}
	}
}
