package oidc_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/oidc/presettest"
)

const (
	appleClient   = "com.example.web"
	appleTeam     = "TEAM123456"
	appleKeyID    = "KEY1234567"
	appleRedirect = "https://auth.example.test/oauth2/callback/apple"
)

type appleClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *appleClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *appleClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type appleSetup struct {
	fake  *presettest.Apple
	clock *appleClock
	pem   string
}

func newAppleSetup(t *testing.T) *appleSetup {
	t.Helper()
	clk := &appleClock{t: time.Now().Truncate(time.Second)}
	key, pub := presettest.NewAppleKey(t)
	fake := presettest.NewApple(t, presettest.AppleOptions{
		ClientID: appleClient, TeamID: appleTeam, KeyID: appleKeyID, ClientKey: pub,
		RedirectURIs: []string{appleRedirect},
		User: presettest.AppleUser{Subject: "001234.abcdef.1234", Email: "x7q2@privaterelay.appleid.com", Private: true,
			FirstName: "Ada", LastName: "Lovelace"},
		Now: clk.Now,
	})
	return &appleSetup{fake: fake, clock: clk, pem: key}
}

// config is the apple preset pointed at the fake, with the key.
func (s *appleSetup) config() oidc.Config {
	return oidc.Config{
		Name: "apple", Type: "apple", Issuer: s.fake.Issuer(), ClientID: appleClient,
		TeamID: appleTeam, KeyID: appleKeyID, PrivateKey: s.pem,
		HTTPClient: s.fake.Client(), Now: s.clock.Now, Timeout: 5 * time.Second,
	}
}

func (s *appleSetup) provider(t *testing.T, cfg oidc.Config) *oidc.Provider {
	t.Helper()
	p, err := oidc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const appleVerifier = "0123456789abcdef0123456789abcdef0123456789abcdef"

// login runs one authorization through the fake and returns what its page
// posts and the exchange's outcome.
func (s *appleSetup) login(t *testing.T, p *oidc.Provider) (url.Values, *oidc.Result, error) {
	t.Helper()
	u, err := p.AuthCodeURL(t.Context(), oidc.AuthRequest{State: "st", Nonce: "n-1", CodeVerifier: appleVerifier, RedirectURI: appleRedirect})
	if err != nil {
		t.Fatal(err)
	}
	action, form, err := s.fake.Authorize(u)
	if err != nil {
		t.Fatal(err)
	}
	if action != appleRedirect {
		t.Fatalf("form posts to %s, want %s", action, appleRedirect)
	}
	res, err := p.Exchange(t.Context(), oidc.ExchangeRequest{Code: form.Get("code"), CodeVerifier: appleVerifier, RedirectURI: appleRedirect, Nonce: "n-1"})
	return form, res, err
}

// TestAppleLogin: the whole preset against the fake: form_post with name
// and email scopes, the generated client secret accepted, identity from
// the ID token alone (no userinfo), a refresh without a new ID token, and
// revocation at the discovered endpoint.
func TestAppleLogin(t *testing.T) {
	s := newAppleSetup(t)
	p := s.provider(t, s.config())

	u, err := p.AuthCodeURL(t.Context(), oidc.AuthRequest{State: "st", Nonce: "n", CodeVerifier: appleVerifier, RedirectURI: appleRedirect})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.Parse(u)
	if got := q.Query(); got.Get("response_mode") != "form_post" || got.Get("scope") != "openid name email" {
		t.Errorf("authorization URL: response_mode %q scope %q", got.Get("response_mode"), got.Get("scope"))
	}

	form, res, err := s.login(t, p)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if form.Get("state") != "st" || !strings.Contains(form.Get("user"), `"firstName":"Ada"`) {
		t.Errorf("form post: %v", form)
	}
	id := res.Identity
	if id.Subject != "001234.abcdef.1234" || id.Email != "x7q2@privaterelay.appleid.com" || !id.EmailVerified || id.Userinfo != nil {
		t.Errorf("identity: %+v", id)
	}
	if id.Name != "" {
		t.Errorf("name %q: Apple's ID token has none (it comes in the user JSON)", id.Name)
	}
	eps, err := p.Endpoints(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if eps.Userinfo != "" || eps.EndSession != "" || eps.Revocation != s.fake.Issuer()+"/auth/revoke" {
		t.Errorf("endpoints: %+v", eps)
	}

	// The second authorization carries no user JSON: Apple sends it once.
	form2, _, err := s.login(t, p)
	if err != nil || form2.Has("user") {
		t.Errorf("second login: %v, user %q", err, form2.Get("user"))
	}

	ref, err := p.Refresh(t.Context(), res.Tokens.RefreshToken, id.Subject)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if ref.Tokens.AccessToken == "" || ref.Tokens.IDToken != "" || ref.Identity.Subject != id.Subject || ref.Tokens.RefreshToken != res.Tokens.RefreshToken {
		t.Errorf("refresh: %+v", ref)
	}
	if err := p.Revoke(t.Context(), res.Tokens.RefreshToken, "refresh_token"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if got := s.fake.Revoked(); len(got) != 1 || got[0] != res.Tokens.RefreshToken {
		t.Errorf("revoked %v", got)
	}
	if _, err := p.LogoutURL(t.Context(), oidc.LogoutRequest{}); !isCode(err, oidc.CodeUnsupported) {
		t.Errorf("logout url: %v, want unsupported (Apple has no end_session_endpoint)", err)
	}
}

// TestAppleStringBooleans is the string-boolean quirk: the fake sends
// email_verified and is_private_email as "true"; the identity reads them
// as true and the claims a webhook gets carry JSON booleans.
func TestAppleStringBooleans(t *testing.T) {
	s := newAppleSetup(t)
	_, res, err := s.login(t, s.provider(t, s.config()))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Identity.EmailVerified {
		t.Error(`EmailVerified false for email_verified "true"`)
	}
	for _, c := range []string{"email_verified", "is_private_email"} {
		if v, ok := res.Identity.Claims[c].(bool); !ok || !v {
			t.Errorf("claims.%s = %#v, want the boolean true", c, res.Identity.Claims[c])
		}
	}
}

// TestAppleClientSecret: what Apple checks in the secret, read off the
// wire at the fake's token endpoint.
func TestAppleClientSecret(t *testing.T) {
	s := newAppleSetup(t)
	if _, _, err := s.login(t, s.provider(t, s.config())); err != nil {
		t.Fatal(err)
	}
	secrets := s.fake.ClientSecrets()
	if len(secrets) != 1 {
		t.Fatalf("%d secrets presented", len(secrets))
	}
	msg, err := jws.Parse([]byte(secrets[0]))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.Algorithm() != jwa.ES256 || h.KeyID() != appleKeyID {
		t.Errorf("header alg %v kid %q", h.Algorithm(), h.KeyID())
	}
	tok, err := jwt.Parse([]byte(secrets[0]), jwt.WithVerify(false), jwt.WithValidate(false))
	if err != nil {
		t.Fatal(err)
	}
	now := s.clock.Now()
	if tok.Issuer() != appleTeam || tok.Subject() != appleClient || strings.Join(tok.Audience(), ",") != "https://appleid.apple.com" {
		t.Errorf("iss %q sub %q aud %v", tok.Issuer(), tok.Subject(), tok.Audience())
	}
	if !tok.IssuedAt().Equal(now) || !tok.Expiration().After(now) || tok.Expiration().Sub(tok.IssuedAt()) > 15777000*time.Second {
		t.Errorf("iat %v exp %v (now %v)", tok.IssuedAt(), tok.Expiration(), now)
	}
	for _, leak := range []string{"PRIVATE KEY", s.pem[40:80]} {
		if strings.Contains(secrets[0], leak) {
			t.Error("the secret carries key material")
		}
	}
}

// TestAppleSecretRenewal is the renewal quirk: a secret is reused while it
// has time left and made anew before it expires; a login two hours on
// (past the first secret's exp, which the fake checks) still works.
func TestAppleSecretRenewal(t *testing.T) {
	s := newAppleSetup(t)
	p := s.provider(t, s.config())
	step := func(d time.Duration) string {
		t.Helper()
		s.clock.Advance(d)
		if _, _, err := s.login(t, p); err != nil {
			t.Fatalf("login after %v: %v", d, err)
		}
		got := s.fake.ClientSecrets()
		return got[len(got)-1]
	}
	first := step(0)
	if again := step(30 * time.Minute); again != first {
		t.Error("secret not reused with 30 minutes left")
	}
	renewed := step(25 * time.Minute) // 5 minutes left: renewed
	if renewed == first {
		t.Error("secret not renewed with 5 minutes left")
	}
	if later := step(2 * time.Hour); later == renewed {
		t.Error("expired secret sent again")
	}
}

// TestAppleSecretConcurrent: concurrent token requests share one secret
// (run with -race).
func TestAppleSecretConcurrent(t *testing.T) {
	s := newAppleSetup(t)
	p := s.provider(t, s.config())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			// A refresh with an unknown token: refused, but only after the
			// fake read the client secret.
			_, _ = p.Refresh(t.Context(), "unknown", "sub")
		})
	}
	wg.Wait()
	secrets := s.fake.ClientSecrets()
	if len(secrets) != 8 {
		t.Fatalf("%d secrets", len(secrets))
	}
	for _, sec := range secrets {
		if sec != secrets[0] {
			t.Fatal("concurrent requests made different secrets")
		}
	}
}

// TestAppleSecretRefused: a secret signed by another key, or a hand-made
// one that has expired, gets Apple's invalid_client, which edgeauth reports
// as its own misconfiguration.
func TestAppleSecretRefused(t *testing.T) {
	s := newAppleSetup(t)
	other, _ := presettest.NewAppleKey(t)
	cfg := s.config()
	cfg.PrivateKey = other
	_, _, err := s.login(t, s.provider(t, cfg))
	var oe *oidc.Error
	if !errors.As(err, &oe) || oe.Code != oidc.CodeUnavailable || oe.Check != "client_auth" {
		t.Fatalf("another key: %v, want provider_unavailable client_auth", err)
	}
	if strings.Contains(err.Error(), other[30:60]) {
		t.Error("error carries key material")
	}
}

// TestAppleHandMadeSecret: without TEAM_ID, KEY_ID and PRIVATE_KEY a
// CLIENT_SECRET (a JWT made elsewhere) is sent as it is.
func TestAppleHandMadeSecret(t *testing.T) {
	s := newAppleSetup(t)
	key, err := x509.ParsePKCS8PrivateKey(pemBytes(t, s.pem))
	if err != nil {
		t.Fatal(err)
	}
	now := s.clock.Now()
	tok, _ := jwt.NewBuilder().Issuer(appleTeam).Subject(appleClient).Audience([]string{"https://appleid.apple.com"}).
		IssuedAt(now).Expiration(now.Add(180 * 24 * time.Hour)).Build()
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, appleKeyID)
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.config()
	cfg.TeamID, cfg.KeyID, cfg.PrivateKey, cfg.ClientSecret = "", "", "", string(signed)
	if _, _, err := s.login(t, s.provider(t, cfg)); err != nil {
		t.Fatalf("login with a hand-made secret: %v", err)
	}
	if got := s.fake.ClientSecrets(); got[0] != string(signed) {
		t.Error("the hand-made secret was not sent as it is")
	}
}

func pemBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		t.Fatal("no PEM")
	}
	return b.Bytes
}

// TestAppleKeyForms: the .p8 key as a file holds it, with its line breaks
// written as \n (an environment variable), and as base64; anything that
// is not an EC P-256 PKCS #8 key is refused at New, without its text in
// the message.
func TestAppleKeyForms(t *testing.T) {
	s := newAppleSetup(t)
	pkcs8 := func(k any) string {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(p256)
	sec1PEM := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))

	for _, tc := range []struct {
		name, key string
		want      string // "" accepted, else in the problem
	}{
		{"pem", s.pem, ""},
		{"pem with escaped newlines", strings.ReplaceAll(strings.TrimSpace(s.pem), "\n", `\n`), ""},
		{"pem with CRLF", strings.ReplaceAll(s.pem, "\n", "\r\n"), ""},
		{"base64 of the pem", base64.StdEncoding.EncodeToString([]byte(s.pem)), ""},
		{"base64 of the der", base64.StdEncoding.EncodeToString(pemBytes(t, s.pem)), ""},
		{"rsa", pkcs8(rsaKey), "RSA key"},
		{"p-384", pkcs8(p384), "P-384"},
		{"ed25519", pkcs8(edKey), "Ed25519"},
		{"sec1 instead of pkcs8", sec1PEM, `"EC PRIVATE KEY"`},
		{"garbage", "not a key at all!", "neither PEM"},
		{"truncated", s.pem[:len(s.pem)/2], "neither PEM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := s.config()
			cfg.PrivateKey = tc.key
			p, err := oidc.New(cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if _, _, err := s.login(t, p); err != nil {
					t.Fatalf("login: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "private_key") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a private_key problem with %q", err, tc.want)
			}
			if len(tc.key) > 60 && strings.Contains(err.Error(), tc.key[30:60]) {
				t.Error("the problem quotes the key")
			}
		})
	}
}

// TestAppleConfig: TEAM_ID, KEY_ID and PRIVATE_KEY all or none; not with
// CLIENT_SECRET; one of the two ways required; none of them elsewhere.
func TestAppleConfig(t *testing.T) {
	s := newAppleSetup(t)
	for _, tc := range []struct {
		name string
		edit func(c *oidc.Config)
		want []string // problems; none: accepted
	}{
		{"key", func(*oidc.Config) {}, nil},
		{"hand-made secret", func(c *oidc.Config) { c.TeamID, c.KeyID, c.PrivateKey, c.ClientSecret = "", "", "", "eyJ.x.y" }, nil},
		{"no key id", func(c *oidc.Config) { c.KeyID = "" }, []string{"key_id: missing"}},
		{"only a team", func(c *oidc.Config) { c.KeyID, c.PrivateKey = "", "" }, []string{"key_id: missing", "private_key: missing"}},
		{"key and secret", func(c *oidc.Config) { c.ClientSecret = "eyJ.x.y" }, []string{"client_secret: set either"}},
		{"nothing", func(c *oidc.Config) { c.TeamID, c.KeyID, c.PrivateKey = "", "", "" }, []string{"client_secret: missing"}},
		{"not apple", func(c *oidc.Config) { c.Type, c.ClientSecret = "oidc", "s" }, []string{"team_id: TEAM_ID, KEY_ID and PRIVATE_KEY are for the apple preset only"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := s.config()
			tc.edit(&cfg)
			_, err := oidc.New(cfg)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "BEGIN") || strings.Contains(err.Error(), s.pem[40:70]) {
				t.Error("the error carries the key")
			}
		})
	}
	// Printing the Config shows no key.
	cfg := s.config()
	for _, f := range []string{"%v", "%+v", "%#v"} {
		if out := fmt.Sprintf(f, cfg); strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, s.pem[40:70]) {
			t.Errorf("%s prints the key", f)
		}
	}
}

// TestAppleConvert: an ID token that the app got from Apple's JS or iOS
// SDK converts, its aud the Services ID, string booleans read as at
// login (the claims a user.convert event carries are booleans too).
func TestAppleConvert(t *testing.T) {
	s := newAppleSetup(t)
	p := s.provider(t, s.config())
	_, res, err := s.login(t, p)
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Convert(t.Context(), oidc.ConvertRequest{Token: res.Tokens.IDToken, Nonce: "n-1"})
	if err != nil {
		t.Fatalf("convert: %v", err)
	}
	if id.Subject != res.Identity.Subject || !id.EmailVerified {
		t.Errorf("converted identity %+v", id)
	}
	if id.Claims["is_private_email"] != true || id.Claims["email_verified"] != true {
		b, _ := json.Marshal(id.Claims)
		t.Errorf("converted claims without the booleans: %s", b)
	}
}

func isCode(err error, code oidc.ErrorCode) bool {
	var oe *oidc.Error
	return errors.As(err, &oe) && oe.Code == code
}
