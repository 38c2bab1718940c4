package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// Sign in with Apple.
//
//   - Discovery: https://appleid.apple.com/.well-known/openid-configuration
//     (issuer without a trailing slash, RS256 ID tokens, client_secret_post
//     only, a revocation_endpoint, no userinfo_endpoint and no
//     end_session_endpoint).
//   - The client secret is an ES256 JWT signed with the team's private key
//     (the .p8 file), header kid = the key id, claims iss = team id, iat,
//     exp at most 15777000 s (six months) later, aud =
//     https://appleid.apple.com, sub = the client id (the Services ID):
//     https://developer.apple.com/documentation/accountorganizationaldatasharing/creating-a-client-secret
//   - Asking for the name or email scope makes Apple insist on
//     response_mode=form_post: the browser comes back with a POST, which
//     edgeauth's /oauth2/callback/<provider> turns into a redirect to the
//     app. The name arrives once, in that POST's unsigned `user` field, on
//     the first authorization only:
//     https://developer.apple.com/documentation/sign_in_with_apple/request_an_authorization_to_the_sign_in_with_apple_server
//   - ID token claims email_verified and is_private_email may be the
//     strings "true"/"false" rather than booleans; a relay address ends in
//     @privaterelay.appleid.com. Identity.Claims carries both as booleans.
//     https://developer.apple.com/documentation/sign_in_with_apple/authenticating-users-with-sign-in-with-apple
//   - Token errors are {"error": "invalid_client"} and the like; a refresh
//     answers a new access token and, usually, no new ID token:
//     https://developer.apple.com/documentation/sign_in_with_apple/generate_and_validate_tokens
func applePreset() preset {
	// Each Provider gets the preset from a fresh call (New), so each has
	// a secret cache of its own.
	secret := &appleSecret{}
	return preset{
		cfg: Config{
			Type:       TypeOIDC,
			Issuer:     "https://appleid.apple.com",
			Scopes:     []string{"openid", "name", "email"},
			ClientAuth: ClientAuthPost,
			AuthParams: map[string]string{"response_mode": "form_post"},
		},
		check: checkAppleConfig,
		quirks: quirks{
			clientSecret: secret.get,
			enrich:       appleBooleans,
		},
	}
}

const (
	// appleAudience is the aud of every client secret, whatever issuer
	// (a test's fake) the provider is configured with.
	appleAudience = "https://appleid.apple.com"
	// appleSecretTTL is how long one client secret is made to live; Apple
	// allows up to appleMaxSecretTTL. An hour keeps a secret that leaked
	// from a log short-lived and costs one ES256 signature an hour.
	appleSecretTTL = time.Hour
	// appleSecretRenew: a cached secret with less than this left is made
	// anew, so one never expires on its way to Apple.
	appleSecretRenew = 10 * time.Minute
	// appleMaxSecretTTL is Apple's limit on exp - iat.
	appleMaxSecretTTL = 15777000 * time.Second
)

// checkAppleConfig applies the rules of the client secret: TEAM_ID, KEY_ID
// and PRIVATE_KEY all or none; with them no CLIENT_SECRET (one would be
// silently ignored); without them a CLIENT_SECRET (a JWT made by hand).
// The key is parsed now so that a bad one stops the start; no message
// carries any of its text.
func checkAppleConfig(c *Config) []ConfigProblem {
	var probs []ConfigProblem
	bad := func(field, msg string) { probs = append(probs, ConfigProblem{Field: field, Msg: msg}) }
	set := map[string]bool{"team_id": c.TeamID != "", "key_id": c.KeyID != "", "private_key": c.PrivateKey != ""}
	some := set["team_id"] || set["key_id"] || set["private_key"]
	switch {
	case some:
		for _, f := range []string{"team_id", "key_id", "private_key"} {
			if !set[f] {
				bad(f, "missing: TEAM_ID, KEY_ID and PRIVATE_KEY make the client secret together")
			}
		}
		if c.ClientSecret != "" {
			bad("client_secret", "set either CLIENT_SECRET (a client-secret JWT made by hand) or TEAM_ID, KEY_ID and PRIVATE_KEY (edgeauth makes and renews it), not both")
		}
	case c.ClientSecret == "":
		bad("client_secret", "missing: set TEAM_ID, KEY_ID and PRIVATE_KEY (the .p8 key) so that edgeauth makes the client secret, or CLIENT_SECRET to a client-secret JWT")
	}
	if set["private_key"] {
		if _, err := parseAppleKey(c.PrivateKey); err != nil {
			bad("private_key", err.Error())
		}
	}
	return probs
}

// parseAppleKey reads the .p8 key: PKCS #8 EC P-256, as PEM (also with
// its line breaks written as the two characters \n, as environment
// variables often carry it), or as base64 of the PEM or of the DER. Its
// errors never quote the input.
func parseAppleKey(s string) (*ecdsa.PrivateKey, error) {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, `\r\n`, "\n")
	s = strings.ReplaceAll(s, `\n`, "\n")
	der, err := appleKeyDER([]byte(s))
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("not a PKCS #8 private key (use the .p8 file Apple gave you, as it is)")
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %s key; Apple's keys are EC P-256", keyKind(k))
	}
	if ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("an EC key on %s; Apple's keys are P-256 (ES256)", ec.Curve.Params().Name)
	}
	return ec, nil
}

func appleKeyDER(b []byte) ([]byte, error) {
	if block, _ := pem.Decode(b); block != nil {
		if block.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("a PEM block of type %s; the .p8 file holds one of type \"PRIVATE KEY\" (PKCS #8)", clip(block.Type))
		}
		return block.Bytes, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil {
		return nil, errors.New("neither PEM (-----BEGIN PRIVATE KEY-----) nor base64")
	}
	if block, _ := pem.Decode(raw); block != nil {
		return appleKeyDER(raw)
	}
	return raw, nil
}

func keyKind(k any) string {
	switch k.(type) {
	case *rsa.PrivateKey:
		return "RSA"
	case ed25519.PrivateKey:
		return "Ed25519"
	}
	return "non-EC"
}

// appleSecret makes Apple's client secret and keeps it until it is close
// to expiry. Safe for concurrent use: a login and a revocation may ask at
// once, and only one signs.
type appleSecret struct {
	mu       sync.Mutex
	key      *ecdsa.PrivateKey
	jwt      string
	iat, exp time.Time
}

// get is the clientSecret quirk: Config.ClientSecret when the operator
// made the JWT by hand, else a cached ES256 JWT, made anew when less than
// appleSecretRenew of it is left (or the clock went back before its iat).
func (s *appleSecret) get(p *Provider) (string, error) {
	c := &p.cfg
	if c.PrivateKey == "" {
		return c.ClientSecret, nil
	}
	now := c.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jwt != "" && !now.Before(s.iat) && now.Add(appleSecretRenew).Before(s.exp) {
		return s.jwt, nil
	}
	if s.key == nil {
		k, err := parseAppleKey(c.PrivateKey)
		if err != nil {
			return "", fmt.Errorf("apple private key: %w", err)
		}
		s.key = k
	}
	iat := now.Truncate(time.Second)
	exp := iat.Add(appleSecretTTL)
	signed, err := signAppleSecret(s.key, c.TeamID, c.KeyID, c.ClientID, iat, exp)
	if err != nil {
		return "", err
	}
	s.jwt, s.iat, s.exp = signed, iat, exp
	return signed, nil
}

// signAppleSecret makes one client-secret JWT.
func signAppleSecret(key *ecdsa.PrivateKey, teamID, keyID, clientID string, iat, exp time.Time) (string, error) {
	if exp.Sub(iat) > appleMaxSecretTTL {
		return "", fmt.Errorf("apple client secret: lifetime %s exceeds Apple's %s", exp.Sub(iat), appleMaxSecretTTL)
	}
	tok, err := jwt.NewBuilder().
		Issuer(teamID).
		Subject(clientID).
		Audience([]string{appleAudience}).
		IssuedAt(iat).
		Expiration(exp).
		Build()
	if err != nil {
		return "", fmt.Errorf("apple client secret: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, keyID); err != nil {
		return "", fmt.Errorf("apple client secret: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("apple client secret: sign: %w", err)
	}
	return string(signed), nil
}

// appleBooleans turns Apple's string booleans in the verified claims into
// JSON booleans, so that a webhook reads claims.email_verified and
// claims.is_private_email one way (a relay address under
// @privaterelay.appleid.com comes with is_private_email true).
// EmailVerified was already read with isTrue.
func appleBooleans(_ context.Context, _ *Provider, _ *endpoints, _ string, id *Identity) error {
	for _, name := range []string{"email_verified", "is_private_email"} {
		if v, ok := id.Claims[name]; ok {
			id.Claims[name] = isTrue(v)
		}
	}
	return nil
}
